import { isCleanupError } from '../errors.js';

/**
 * Wraps a command body that resolves to an exit code. Typed errors print as one clear line
 * (usage and input errors exit 64); anything else prints its message and exits 1.
 */
export function runCommand<A extends unknown[]>(
  body: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await body(...args);
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
