import { describe, expect, it } from 'vitest';
import { pageRetryDelayMs } from '../../../src/dcs/fetch-page.js';
import { classifyAttempt } from '../../../src/dcs/classify.js';
import type { AttemptOutcome } from '../../../src/dcs/attempt-outcome.js';

const answer = (status: number, errorCode?: string, retryAfterMs?: number): AttemptOutcome => ({
  verdict: classifyAttempt({ kind: 'response', status, errorCode, retryAfterMs }),
  status,
  errorCode,
  retryAfterMs,
  durationMs: 1,
});

describe('pageRetryDelayMs', () => {
  it('waits the Retry-After of a 429, capped at a minute, or 2-5 s without one', () => {
    expect(pageRetryDelayMs(answer(429, 'APIGW.0308', 1_500), 1)).toBe(1_500);
    expect(pageRetryDelayMs(answer(429, 'APIGW.0308', 600_000), 1)).toBe(60_000);
    expect(pageRetryDelayMs(answer(429, 'APIGW.0308'), 1, () => 0.5)).toBe(3_500);
  });

  it('backs off with full jitter on 5xx and busy answers, capped at 8 s', () => {
    expect(pageRetryDelayMs(answer(503), 1, () => 1)).toBe(500);
    expect(pageRetryDelayMs(answer(500, '111400069'), 3, () => 1)).toBe(2_000);
    expect(pageRetryDelayMs(answer(502), 10, () => 1)).toBe(8_000);
    expect(pageRetryDelayMs(answer(502), 2, () => 0)).toBe(0);
  });

  it('does not retry what a retry cannot fix: auth, configuration, rejections, aborts', () => {
    expect(pageRetryDelayMs(answer(401, 'APIGW.0301'), 1)).toBeUndefined();
    expect(pageRetryDelayMs(answer(404, 'APIGW.0101'), 1)).toBeUndefined();
    expect(pageRetryDelayMs(answer(400, '111400063'), 1)).toBeUndefined();
    const aborted: AttemptOutcome = {
      verdict: classifyAttempt({ kind: 'network', errorKind: 'aborted' }),
      networkError: 'aborted',
      durationMs: 1,
    };
    expect(pageRetryDelayMs(aborted, 1)).toBeUndefined();
  });
});
