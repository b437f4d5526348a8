import type { Command } from 'commander';
import { createRootCommand } from './root-command.js';
import { registerEnqueueCommand } from './enqueue-command.js';
import { registerWorkerCommand } from './worker-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerResumeCommand } from './resume-command.js';
import { registerDlqCommand } from './dlq-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerOpenApiCommand } from './openapi-command.js';
import { registerHealthcheckCommand } from './healthcheck-command.js';
import { registerPurgeCommand } from './purge-command.js';
import { registerScheduleCommand } from './schedule-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerEmulatorCommand } from './emulator-command.js';
import { registerTokenCommand } from './token-command.js';

/**
 * The whole `dcs-cleanup` command tree, loaded eagerly (tests and tools that list the commands).
 * Each command lives in its own file under src/cli and registers itself here with one line, and in
 * command-index.ts (what the binary uses); commands return an exit code instead of calling process.exit.
 */
export function buildProgram(): Command {
  const program = createRootCommand();
  registerEnqueueCommand(program);
  registerWorkerCommand(program);
  registerStatusCommand(program);
  registerResumeCommand(program);
  registerDlqCommand(program);
  registerServeCommand(program);
  registerOpenApiCommand(program);
  registerHealthcheckCommand(program);
  registerPurgeCommand(program);
  registerScheduleCommand(program);
  registerDemoCommand(program);
  registerEmulatorCommand(program);
  registerTokenCommand(program);
  return program;
}
