/**
 * Every setting of a worker process, resolved once: an override (a CLI flag, or a test's or the
 * demo's choice) wins, else the configuration schema's value (src/config/config.ts, which holds the
 * defaults a user can change); the few timings no one configures are named here.
 */
import type { AutoRateSettings } from '../queue/rate-control/rate-script.js';
import type { Config } from '../config/config.js';
import type { TrustedPair } from '../queue/circuit-probe.js';
import type { DeadLetterRetention } from '../queue/dead-letter-retention.js';
import { DEFAULT_RETRY_POLICY, buildRetryPolicy, type RetryPolicy } from '../queue/retry-policy.js';

/** How often failed and unreadable jobs are swept into the dead letters. */
export const SWEEP_INTERVAL_MS = 30_000;
/** How often one worker process applies the dead-letter retention. */
export const TRIM_INTERVAL_MS = 60_000;

const DAY_MS = 86_400_000;

/** What a caller of startWorker may set instead of the configuration. */
export interface WorkerOverrides {
  /** Jobs in flight in this process (WORKER_CONCURRENCY). */
  concurrency?: number | undefined;
  /** DELETEs per second across every worker of the prefix, per account; `auto`; 0 = off (WORKER_RATE_LIMIT). */
  rateLimitPerSecond?: number | 'auto' | undefined;
  /** Laid over the WORKER_RATE_AUTO_* settings. */
  autoRate?: Partial<AutoRateSettings> | undefined;
  /** Port of /metrics and /healthz, 0 = off (METRICS_PORT). */
  metricsPort?: number | undefined;
  /** How long in-flight jobs may finish on close (WORKER_SHUTDOWN_TIMEOUT_SEC). */
  shutdownTimeoutMs?: number | undefined;
  /** How long a dead worker's jobs stay claimed (WORKER_LOCK_DURATION_MS). */
  lockDurationMs?: number | undefined;
  /** How often BullMQ looks for stalled jobs (default: the lock duration). */
  stalledIntervalMs?: number | undefined;
  /** How often the breaker probes DCS while open (WORKER_PROBE_INTERVAL_MS). */
  probeIntervalMs?: number | undefined;
  sweepIntervalMs?: number | undefined;
  trimIntervalMs?: number | undefined;
  /** Laid over the RETRY_* settings (the tests' and the demo's faster timings). */
  policy?: Partial<RetryPolicy> | undefined;
  /** The pair the breaker probes instead of a refused job's own (default DCS_PROJECT_ID in DCS_REGION). */
  trusted?: TrustedPair | undefined;
  /** Whether this process also runs scheduled purges (default true, as every worker process does). */
  schedules?: boolean | undefined;
}

export interface WorkerSettings {
  concurrency: number;
  rateLimitPerSecond: number | 'auto';
  /** How `auto` searches (WORKER_RATE_AUTO_*). */
  autoRate: AutoRateSettings;
  metricsPort: number;
  shutdownTimeoutMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  probeIntervalMs: number;
  sweepIntervalMs: number;
  trimIntervalMs: number;
  policy: RetryPolicy;
  trusted: TrustedPair | undefined;
  deadLetterRetention: DeadLetterRetention;
  schedules: boolean;
}

export function resolveWorkerSettings(config: Config, overrides: WorkerOverrides = {}): WorkerSettings {
  const lockDurationMs = overrides.lockDurationMs ?? config.WORKER_LOCK_DURATION_MS;
  return {
    concurrency: overrides.concurrency ?? config.WORKER_CONCURRENCY,
    rateLimitPerSecond: overrides.rateLimitPerSecond ?? config.WORKER_RATE_LIMIT,
    autoRate: {
      start: config.WORKER_RATE_AUTO_START,
      min: config.WORKER_RATE_AUTO_MIN,
      max: config.WORKER_RATE_AUTO_MAX,
      step: config.WORKER_RATE_AUTO_STEP,
      cut: config.WORKER_RATE_AUTO_CUT,
      cooldownMs: config.WORKER_RATE_AUTO_COOLDOWN_MS,
      ...overrides.autoRate,
    },
    metricsPort: overrides.metricsPort ?? config.METRICS_PORT,
    shutdownTimeoutMs: overrides.shutdownTimeoutMs ?? config.WORKER_SHUTDOWN_TIMEOUT_SEC * 1_000,
    lockDurationMs,
    stalledIntervalMs: overrides.stalledIntervalMs ?? lockDurationMs,
    probeIntervalMs: overrides.probeIntervalMs ?? config.WORKER_PROBE_INTERVAL_MS,
    sweepIntervalMs: overrides.sweepIntervalMs ?? SWEEP_INTERVAL_MS,
    trimIntervalMs: overrides.trimIntervalMs ?? TRIM_INTERVAL_MS,
    policy: { ...DEFAULT_RETRY_POLICY, ...buildRetryPolicy(config), ...overrides.policy },
    trusted:
      overrides.trusted ??
      (config.DCS_PROJECT_ID === undefined
        ? undefined
        : { projectId: config.DCS_PROJECT_ID, region: config.DCS_REGION }),
    deadLetterRetention: {
      maxAgeMs: config.DEAD_LETTER_MAX_AGE_DAYS * DAY_MS,
      maxCount: config.DEAD_LETTER_MAX_COUNT,
    },
    schedules: overrides.schedules ?? true,
  };
}
