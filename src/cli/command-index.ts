import type { Command } from 'commander';
import { createRootCommand } from './root-command.js';

type Register = (program: Command) => void;

/**
 * Every command, loaded on demand: a process loads the code of the command it runs and nothing
 * else (the API server's and the emulator's modules cost a second of start-up CPU on their own).
 * Each command lives in its own file under src/cli and is listed here with one line; commands
 * return an exit code (or, for long-running ones, a service src/bin waits on) instead of calling
 * process.exit.
 */
export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<Register>>> = {
  enqueue: async () => (await import('./enqueue-command.js')).registerEnqueueCommand,
  worker: async () => (await import('./worker-command.js')).registerWorkerCommand,
  status: async () => (await import('./status-command.js')).registerStatusCommand,
  resume: async () => (await import('./resume-command.js')).registerResumeCommand,
  dlq: async () => (await import('./dlq-command.js')).registerDlqCommand,
  serve: async () => (await import('./serve-command.js')).registerServeCommand,
  openapi: async () => (await import('./openapi-command.js')).registerOpenApiCommand,
  healthcheck: async () => (await import('./healthcheck-command.js')).registerHealthcheckCommand,
  purge: async () => (await import('./purge-command.js')).registerPurgeCommand,
  schedule: async () => (await import('./schedule-command.js')).registerScheduleCommand,
  runs: async () => (await import('./runs-command.js')).registerRunsCommand,
  demo: async () => (await import('./demo-command.js')).registerDemoCommand,
  emulator: async () => (await import('./emulator-command.js')).registerEmulatorCommand,
  token: async () => (await import('./token-command.js')).registerTokenCommand,
};

/** The program for `argv`: only the command it names, or every command (for help and unknown names). */
export async function buildProgramFor(argv: readonly string[]): Promise<Command> {
  const program = createRootCommand();
  const name = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const loader = name === undefined || name === 'help' ? undefined : COMMAND_LOADERS[name];
  const registers = loader
    ? [await loader()]
    : await Promise.all(Object.values(COMMAND_LOADERS).map((load) => load()));
  for (const register of registers) register(program);
  return program;
}
