import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../../src/dcs/attempt-outcome.js';
import type { Action } from '../../../src/dcs/classify.js';
import { DcsRequestError, errorCodeForOutcome } from '../../../src/dcs/dcs-request-error.js';
import { CleanupError } from '../../../src/errors.js';

function outcome(action: Action, extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return { verdict: { action, reason: 'test' }, status: 400, durationMs: 1, ...extra };
}

describe('errorCodeForOutcome', () => {
  it.each([
    ['auth_failed', 'DCS_AUTH_FAILED'],
    ['throttled', 'DCS_THROTTLED'],
    ['misconfigured', 'DCS_MISCONFIGURED'],
    ['busy', 'DCS_BUSY'],
    ['retry', 'DCS_UNAVAILABLE'],
    ['rejected', 'DCS_REJECTED'],
    ['already_gone', 'DCS_REJECTED'],
    ['deleted', 'DCS_PROTOCOL'],
  ] as const)('maps %s to %s', (action, code) => {
    expect(errorCodeForOutcome(outcome(action))).toBe(code);
  });

  it('maps any 403 to DCS_FORBIDDEN', () => {
    expect(errorCodeForOutcome(outcome('rejected', { status: 403 }))).toBe('DCS_FORBIDDEN');
  });
});

describe('DcsRequestError', () => {
  it('is a CleanupError whose message names status, code and request id', () => {
    const err = new DcsRequestError(
      'GET /v2/p/instances',
      outcome('throttled', {
        status: 429,
        errorCode: 'APIGW.0308',
        requestId: 'rid-1',
        errorMsg: 'over ratelimit',
      }),
    );
    expect(err).toBeInstanceOf(CleanupError);
    expect(err.name).toBe('DcsRequestError');
    expect(err.code).toBe('DCS_THROTTLED');
    expect(err.message).toBe('GET /v2/p/instances failed: HTTP 429 APIGW.0308, request_id rid-1');
    expect(err.details).toMatchObject({ status: 429, errorCode: 'APIGW.0308', requestId: 'rid-1' });
  });

  it('describes a network failure and keeps its cause', () => {
    const cause = new Error('socket hang up');
    const err = new DcsRequestError(
      'GET /x',
      { verdict: { action: 'retry', reason: 'network_reset' }, networkError: 'reset', durationMs: 2 },
      { cause },
    );
    expect(err.message).toBe('GET /x failed: network error (reset)');
    expect(err.cause).toBe(cause);
    expect(err.code).toBe('DCS_UNAVAILABLE');
  });

  it('takes an explicit code and problem for an unreadable success body', () => {
    const err = new DcsRequestError('GET /x', outcome('deleted', { status: 200 }), {
      code: 'DCS_PROTOCOL',
      problem: 'body is not JSON',
    });
    expect(err.code).toBe('DCS_PROTOCOL');
    expect(err.message).toBe('GET /x failed: HTTP 200: body is not JSON');
  });
});
