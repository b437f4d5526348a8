import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { DEFAULT_RETRY_POLICY } from '../../../src/queue/retry-policy.js';
import { SWEEP_INTERVAL_MS, TRIM_INTERVAL_MS, resolveWorkerSettings } from '../../../src/app.js';

describe('worker settings: every default resolved once, from the configuration schema', () => {
  it('takes the schema defaults when nothing is set', () => {
    const settings = resolveWorkerSettings(loadConfig({}));
    expect(settings).toMatchObject({
      concurrency: 32,
      rateLimitPerSecond: 50,
      metricsPort: 0,
      shutdownTimeoutMs: 10_000,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      probeIntervalMs: 120_000,
      sweepIntervalMs: SWEEP_INTERVAL_MS,
      trimIntervalMs: TRIM_INTERVAL_MS,
      trusted: undefined,
      deadLetterRetention: { maxAgeMs: 30 * 86_400_000, maxCount: 100_000 },
      schedules: true,
    });
    expect(settings.policy).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('takes the environment over the defaults', () => {
    const settings = resolveWorkerSettings(
      loadConfig({
        WORKER_CONCURRENCY: '4',
        WORKER_RATE_LIMIT: '0',
        METRICS_PORT: '9100',
        WORKER_SHUTDOWN_TIMEOUT_SEC: '3',
        WORKER_LOCK_DURATION_MS: '5000',
        WORKER_PROBE_INTERVAL_MS: '1000',
        RETRY_BACKOFF_BASE_MS: '7',
        DEAD_LETTER_MAX_AGE_DAYS: '0',
        DCS_PROJECT_ID: 'p1',
        DCS_REGION: 'ap-southeast-1',
      }),
    );
    expect(settings).toMatchObject({
      concurrency: 4,
      rateLimitPerSecond: 0,
      metricsPort: 9100,
      shutdownTimeoutMs: 3_000,
      lockDurationMs: 5_000,
      stalledIntervalMs: 5_000,
      probeIntervalMs: 1_000,
      trusted: { projectId: 'p1', region: 'ap-southeast-1' },
      deadLetterRetention: { maxAgeMs: 0, maxCount: 100_000 },
    });
    expect(settings.policy.backoffBaseMs).toBe(7);
  });

  it('takes overrides (flags, the demo, the tests) over the environment', () => {
    const config = loadConfig({
      WORKER_CONCURRENCY: '4',
      RETRY_BACKOFF_BASE_MS: '7',
      RETRY_BACKOFF_CAP_MS: '9',
    });
    const settings = resolveWorkerSettings(config, {
      concurrency: 2,
      lockDurationMs: 2_000,
      policy: { backoffBaseMs: 1 },
      schedules: false,
    });
    expect(settings).toMatchObject({ concurrency: 2, lockDurationMs: 2_000, stalledIntervalMs: 2_000 });
    expect(settings.policy).toMatchObject({ backoffBaseMs: 1, backoffCapMs: 9 });
    expect(settings.schedules).toBe(false);
  });
});
