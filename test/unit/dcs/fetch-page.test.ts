import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_TIMING, pageRetryDelayMs, retryInProcess } from '../../../src/dcs/retry-loop.js';
import { classifyAttempt } from '../../../src/dcs/classify.js';
import type { AttemptOutcome } from '../../../src/dcs/attempt-outcome.js';

const answer = (status: number, errorCode?: string, retryAfterMs?: number): AttemptOutcome => ({
  verdict: classifyAttempt({ status, errorCode }),
  status,
  errorCode,
  retryAfterMs,
  durationMs: 1,
});

const timing = { ...DEFAULT_RETRY_TIMING, inProcessBaseMs: 250, inProcessCapMs: 8_000 };

describe('pageRetryDelayMs', () => {
  it('waits the Retry-After of a 429, capped by the policy, or between its min and max without one', () => {
    expect(pageRetryDelayMs(timing, answer(429, 'APIGW.0308', 1_500), 1)).toBe(1_500);
    expect(pageRetryDelayMs(timing, answer(429, 'APIGW.0308', 600_000), 1)).toBe(60_000);
    expect(pageRetryDelayMs(timing, answer(429, 'APIGW.0308'), 1, () => 0.5)).toBe(3_500);
    const custom = { ...timing, throttleMinMs: 100, throttleMaxMs: 300, throttleCapMs: 1_000 };
    expect(pageRetryDelayMs(custom, answer(429, 'APIGW.0308'), 1, () => 0.5)).toBe(200);
    expect(pageRetryDelayMs(custom, answer(429, 'APIGW.0308', 5_000), 1)).toBe(1_000);
  });

  it("backs off with the policy's full jitter on 5xx and busy answers, up to its cap", () => {
    expect(pageRetryDelayMs(timing, answer(503), 1, () => 1)).toBe(250);
    expect(pageRetryDelayMs(timing, answer(500, '111400069'), 3, () => 1)).toBe(1_000);
    expect(pageRetryDelayMs(timing, answer(502), 10, () => 1)).toBe(8_000);
    expect(pageRetryDelayMs(timing, answer(502), 2, () => 0)).toBe(0);
    expect(pageRetryDelayMs(DEFAULT_RETRY_TIMING, answer(502), 1, () => 1)).toBe(200);
  });

  it('does not retry what a retry cannot fix: auth, configuration, rejections, aborts', () => {
    expect(pageRetryDelayMs(timing, answer(401, 'APIGW.0301'), 1)).toBeUndefined();
    expect(pageRetryDelayMs(timing, answer(404, 'APIGW.0101'), 1)).toBeUndefined();
    expect(pageRetryDelayMs(timing, answer(400, '111400063'), 1)).toBeUndefined();
    const aborted: AttemptOutcome = {
      verdict: classifyAttempt({ networkError: 'aborted' }),
      networkError: 'aborted',
      durationMs: 1,
    };
    expect(pageRetryDelayMs(timing, aborted, 1)).toBeUndefined();
  });
});

describe('retryInProcess', () => {
  const results = (...values: string[]) => {
    let i = 0;
    const calls: string[] = [];
    const attempt = () => {
      const value = values[Math.min(i++, values.length - 1)]!;
      calls.push(value);
      return Promise.resolve(value);
    };
    return { attempt, calls };
  };
  const retryOnFail = (result: string) => (result === 'fail' ? 0 : undefined);

  it('returns the first result that needs no retry, after as few tries as it takes', async () => {
    const { attempt, calls } = results('fail', 'fail', 'ok');
    const retries: number[] = [];
    const result = await retryInProcess(attempt, {
      retries: 5,
      delayMs: (r, n) => (retryOnFail(r) === undefined ? undefined : (retries.push(n), 0)),
    });
    expect(result).toBe('ok');
    expect(calls).toEqual(['fail', 'fail', 'ok']);
    expect(retries).toEqual([1, 2]);
  });

  it('tries 1 + retries times at most and ends with the last result', async () => {
    const { attempt, calls } = results('fail');
    const announced: string[] = [];
    const result = await retryInProcess(attempt, {
      retries: 2,
      delayMs: retryOnFail,
      onRetry: (r) => announced.push(r),
    });
    expect(result).toBe('fail');
    expect(calls).toHaveLength(3);
    expect(announced).toHaveLength(2);
  });

  it('stops with the last result when proceed says no or the wait is aborted', async () => {
    const first = results('fail');
    expect(
      await retryInProcess(first.attempt, { retries: 3, delayMs: retryOnFail, proceed: () => false }),
    ).toBe('fail');
    expect(first.calls).toHaveLength(1);
    const second = results('fail');
    const before = await retryInProcess(
      second.attempt,
      { retries: 3, delayMs: () => 0 },
      AbortSignal.abort(),
    );
    expect(before).toBe('fail');
    expect(second.calls).toHaveLength(1);
    const third = results('fail');
    const shutdown = new AbortController();
    // Aborted once the ten-second wait has begun: the loop must not sit it out.
    const during = await retryInProcess(
      third.attempt,
      { retries: 3, delayMs: () => 10_000, onRetry: () => queueMicrotask(() => shutdown.abort()) },
      shutdown.signal,
    );
    expect(during).toBe('fail');
    expect(third.calls).toHaveLength(1);
  });

  it('lets an exception of the attempt through', async () => {
    const attempt = () => Promise.reject(new Error('boom'));
    await expect(retryInProcess(attempt, { retries: 3, delayMs: () => 0 })).rejects.toThrow('boom');
  });
});
