/**
 * Signal handling for long-running commands (worker, serve, emulator): the command returns a
 * service (src/cli/run-command.ts RunningService) and this waits for it to end. The first
 * SIGTERM/SIGINT, or the service ending on its own, starts a graceful close; a second signal, or
 * the close taking longer than `forceAfterMs`, exits at once.
 */
import type { RunningService } from '../cli/run-command.js';

export interface RunServiceOptions {
  forceAfterMs?: number;
}

/** Resolves with the exit code once `service` has closed after a signal or its own end. */
export function waitForShutdown(service: RunningService, options: RunServiceOptions = {}): Promise<number> {
  const forceAfterMs = options.forceAfterMs ?? 30_000;
  return new Promise((resolve) => {
    let closing = false;
    const stop = (code: number): void => {
      closing = true;
      const timer = setTimeout(() => process.exit(1), forceAfterMs);
      timer.unref();
      service.close().then(
        () => {
          clearTimeout(timer);
          process.off('SIGTERM', handler);
          process.off('SIGINT', handler);
          resolve(code);
        },
        (err: unknown) => {
          process.stderr.write(
            `dcs-cleanup: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          resolve(1);
        },
      );
    };
    const handler = (signal: NodeJS.Signals): void => {
      if (closing) process.exit(130);
      service.onSignal?.(signal);
      stop(0);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
    service.ended?.then(
      (code) => {
        if (!closing) stop(code);
      },
      () => {
        if (!closing) stop(1);
      },
    );
  });
}
