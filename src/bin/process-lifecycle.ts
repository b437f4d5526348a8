/**
 * Signal handling for long-running commands (worker, serve, emulator). The first SIGTERM/SIGINT
 * starts a graceful close; a second one, or the close taking longer than `forceAfterMs`, exits at once.
 */
export interface Service {
  close(): Promise<void>;
}

export interface RunServiceOptions {
  forceAfterMs?: number;
  onSignal?: (signal: NodeJS.Signals) => void;
}

/** Resolves with the exit code once `service` has closed after a signal. */
export function waitForShutdown(service: Service, options: RunServiceOptions = {}): Promise<number> {
  const forceAfterMs = options.forceAfterMs ?? 30_000;
  return new Promise((resolve) => {
    let closing = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (closing) {
        process.exit(130);
      }
      closing = true;
      options.onSignal?.(signal);
      const timer = setTimeout(() => process.exit(1), forceAfterMs);
      timer.unref();
      service.close().then(
        () => {
          clearTimeout(timer);
          process.off('SIGTERM', handler);
          process.off('SIGINT', handler);
          resolve(0);
        },
        (err: unknown) => {
          process.stderr.write(
            `dcs-cleanup: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
