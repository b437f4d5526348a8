/**
 * The worker's liveness, answered from in-process state so that a probe never waits on Redis: a
 * background PING on the worker's own Redis connection records the last round trip that succeeded.
 * The worker is unhealthy only once that is older than the grace period. A short Redis blip (a
 * restart, a failover) must not make an orchestrator restart every worker at once; a worker cut off
 * for good (its network namespace gone, a partition) must be noticed and replaced.
 */
export interface WorkerHealthOptions {
  /** One round trip on the worker's Redis connection (it may wait while Redis is away). */
  ping(): Promise<unknown>;
  /** How long Redis may go without a successful round trip before the worker is unhealthy. */
  graceMs: number;
  /** How often to ping (default a quarter of the grace, at most 5 s). */
  intervalMs?: number;
  now?: () => number;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  /** Milliseconds since the last successful Redis round trip. */
  redis_silent_ms: number;
  grace_ms: number;
}

export interface WorkerHealth {
  report(): HealthReport;
  /** Sends one PING unless one is still pending (a dead connection never piles them up). */
  probe(): Promise<void>;
  start(): void;
  stop(): void;
}

/** Starts counting from now: the worker starts only once Redis has answered. */
export function createWorkerHealth(options: WorkerHealthOptions): WorkerHealth {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? Math.min(5_000, Math.max(250, Math.floor(options.graceMs / 4)));
  let lastOkAt = now();
  let pending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const probe = (): Promise<void> =>
    (pending ??= options
      .ping()
      .then(
        () => {
          lastOkAt = now();
        },
        () => undefined,
      )
      .finally(() => {
        pending = undefined;
      }));

  return {
    report() {
      const silentMs = Math.max(0, now() - lastOkAt);
      return {
        status: silentMs > options.graceMs ? 'unhealthy' : 'ok',
        redis_silent_ms: silentMs,
        grace_ms: options.graceMs,
      };
    },
    probe,
    start() {
      timer ??= setInterval(() => void probe(), intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
