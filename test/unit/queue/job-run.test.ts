import { describe, expect, it } from 'vitest';
import { RetryLaterError, createBackoffStrategy } from '../../../src/queue/job-run.js';
import { BACKOFF_TYPE } from '../../../src/queue/job-contract.js';
import { DEFAULT_RETRY_POLICY, backoffDelayMs } from '../../../src/queue/retry-policy.js';
import { captureLogger } from '../../support/log-capture.js';

const policy = { ...DEFAULT_RETRY_POLICY, backoffBaseMs: 100, backoffCapMs: 1_000 };
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('createBackoffStrategy: the one computation of a BullMQ retry delay', () => {
  it("waits the policy's capped full jitter after the n-th failed attempt", () => {
    const { logger } = captureLogger();
    const strategy = createBackoffStrategy(policy, logger);
    for (const attemptsMade of [1, 2, 3, 4, 5, 10]) {
      const ceiling = Math.min(1_000, 100 * 2 ** (attemptsMade - 1));
      for (let i = 0; i < 50; i++) {
        const delay = strategy(attemptsMade, BACKOFF_TYPE, new Error('redis gone'));
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(backoffDelayMs(policy, 3, () => 1)).toBe(400);
    expect(backoffDelayMs(policy, 9, () => 1)).toBe(1_000);
  });

  it('logs one `retry scheduled` record, with the delay it chose, for a retry the processor asked for', async () => {
    const logs = captureLogger();
    const { logger } = logs;
    const strategy = createBackoffStrategy(policy, logger);
    const err = new RetryLaterError('retry: http_503', {
      job_id: 'del_p_i_t',
      task_id: 't',
      reason: 'http_503',
    });
    const delay = strategy(2, BACKOFF_TYPE, err);
    await flush();
    const logged = logs.records.filter((r) => r.msg === 'retry scheduled');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      job_id: 'del_p_i_t',
      task_id: 't',
      reason: 'http_503',
      delay_ms: delay,
      attempt: 2,
    });
  });

  it('keeps the policy delay for its own retries whatever the backoff type, and 0 for foreign types', async () => {
    const logs = captureLogger();
    const { logger } = logs;
    const strategy = createBackoffStrategy({ ...policy, backoffBaseMs: 1_000, backoffCapMs: 1_000 }, logger);
    expect(strategy(1, 'other-type', new Error('boom'))).toBe(0);
    const err = new RetryLaterError('retry: network_reset', {
      job_id: 'j',
      task_id: 't',
      reason: 'network_reset',
    });
    const delays = Array.from({ length: 20 }, () => strategy(1, 'other-type', err));
    expect(delays.every((d) => d >= 0 && d <= 1_000)).toBe(true);
    await flush();
    expect(logs.records.filter((r) => r.msg === 'retry scheduled')).toHaveLength(20);
  });
});
