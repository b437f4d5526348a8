import type { Command } from 'commander';
import { isCleanupError } from '../errors.js';

/**
 * What a long-running command (worker, serve, emulator) returns instead of an exit code: src/bin
 * waits for SIGTERM/SIGINT (or for `ended`), then closes it. The CLI itself never waits for signals.
 */
export interface RunningService {
  /** Releases everything the command opened; called once. */
  close(): Promise<void>;
  /** Settles with an exit code when the service ends on its own (worker --exit-when-idle, a refusal). */
  readonly ended?: Promise<number>;
  /** Told the signal that starts the shutdown (to log it). */
  onSignal?(signal: NodeJS.Signals): void;
}

const services = new WeakMap<Command, RunningService>();

/** The service the command run by `program` started, if it is a long-running one. */
export function startedService(program: Command): RunningService | undefined {
  return services.get(program);
}

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

/**
 * Wraps a command body that resolves to an exit code or a running service. Typed errors print as one
 * clear line (usage and input errors exit 64); anything else prints its message and exits 1.
 */
export function runCommand<A extends unknown[]>(
  body: (...args: A) => Promise<number | RunningService>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const result = await body(...args);
      if (typeof result === 'number') {
        process.exitCode = result;
        return;
      }
      // commander passes the command itself last.
      const command = args.at(-1) as Command;
      services.set(rootOf(command), result);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Prints `err` as one line on stderr (no stack: secrets and paths stay out) and returns its exit code. */
export function reportError(err: unknown): number {
  process.stderr.write(`dcs-cleanup: ${err instanceof Error ? err.message : String(err)}\n`);
  if (isCleanupError(err)) return err.code.startsWith('INVALID_') ? EXIT_CODES.usage : EXIT_CODES.failure;
  return EXIT_CODES.failure;
}

/** Exit codes every command shares; purge adds its own (documented in the README). */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  /** Some jobs ended in the dead letters. */
  deadLettered: 2,
  /** The purge --max guard stopped the run before anything was enqueued. */
  guardStopped: 3,
  /** Usage, input or configuration error. */
  usage: 64,
} as const;
