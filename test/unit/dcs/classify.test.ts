import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS, classifyAttempt, type Action, type NetworkErrorKind } from '../../../src/dcs/classify.js';

interface Row {
  status: number;
  code?: string;
  action: Action;
  meaning: string;
}

/** One row per row of the error table in dcs-api.md, plus the success and code-less answers. */
const RESPONSE_ROWS: Row[] = [
  { status: 400, code: '111400070', action: 'rejected', meaning: 'invalid task id format' },
  { status: 400, code: '111400061', action: 'rejected', meaning: 'invalid instance id format' },
  { status: 400, code: '111400063', action: 'rejected', meaning: 'invalid parameter' },
  { status: 400, code: '111400062', action: 'rejected', meaning: 'invalid parameter' },
  { status: 400, code: '111400800', action: 'rejected', meaning: 'invalid parameter' },
  { status: 400, code: '111400017', action: 'busy', meaning: 'a background task is running' },
  { status: 400, code: '111400026', action: 'busy', meaning: 'operation not allowed in the current state' },
  { status: 400, code: '111400119', action: 'already_gone', meaning: 'the instance does not exist' },
  { status: 404, code: '111404022', action: 'already_gone', meaning: 'the instance does not exist' },
  { status: 404, code: '111404001', action: 'misconfigured', meaning: 'the URL does not exist' },
  {
    status: 404,
    code: 'APIGW.0101',
    action: 'misconfigured',
    meaning: 'the API does not exist at this gateway',
  },
  { status: 404, code: 'APIGW.0102', action: 'rejected', meaning: 'another gateway 404: DCS never saw it' },
  { status: 404, action: 'rejected', meaning: 'an empty or unreadable body' },
  { status: 404, code: '', action: 'rejected', meaning: 'an empty error_code is no code' },
  { status: 401, code: 'APIGW.0301', action: 'auth_failed', meaning: 'bad signature' },
  { status: 401, code: '111401001', action: 'auth_failed', meaning: 'authentication failed' },
  { status: 401, code: '111401002', action: 'auth_failed', meaning: 'authentication failed' },
  { status: 401, code: '111401003', action: 'auth_failed', meaning: 'authentication failed' },
  { status: 401, code: '111401004', action: 'auth_failed', meaning: 'authentication failed' },
  { status: 401, action: 'auth_failed', meaning: 'no code' },
  { status: 403, code: '111403002', action: 'forbidden', meaning: 'account read-only' },
  { status: 403, code: '111403003', action: 'forbidden', meaning: 'IAM role lacks the permission' },
  { status: 403, code: 'DCS.4030', action: 'rejected', meaning: 'a 403 about one resource' },
  { status: 403, action: 'rejected', meaning: 'a 403 without a code proves nothing about the key' },
  { status: 400, code: 'DCS.4026', action: 'busy', meaning: 'current state does not allow it (Terraform)' },
  { status: 400, code: 'DCS.4049', action: 'busy', meaning: 'instance not running (Terraform)' },
  { status: 400, code: 'DCS.4111', action: 'busy', meaning: 'instance restarting (Terraform)' },
  { status: 400, code: 'DCS.4113', action: 'busy', meaning: 'instance resizing (Terraform)' },
  { status: 400, code: 'CBC.99003651', action: 'busy', meaning: 'an order is being processed (Terraform)' },
  { status: 400, code: 'DCS.4031', action: 'already_gone', meaning: 'instance does not exist (Terraform)' },
  { status: 400, code: 'DCS.4133', action: 'already_gone', meaning: 'instance does not exist (Terraform)' },
  { status: 404, code: 'DCS.4941', action: 'already_gone', meaning: 'instance does not exist (Terraform)' },
  { status: 404, code: 'DCS.4942', action: 'already_gone', meaning: 'instance does not exist (Terraform)' },
  { status: 429, code: 'APIGW.0308', action: 'throttled', meaning: 'throttled, no Retry-After' },
  {
    status: 429,
    code: 'APIGW.0308',
    action: 'throttled',
    meaning: 'throttled, Retry-After 3',
  },
  { status: 429, code: 'APIG.0308', action: 'throttled', meaning: 'throttled (old gateway), no Retry-After' },
  {
    status: 429,
    code: 'APIG.0308',
    action: 'throttled',
    meaning: 'throttled, Retry-After 5',
  },
  { status: 500, code: '111400069', action: 'busy', meaning: 'another user is changing the configuration' },
  { status: 500, code: '111500000', action: 'retry', meaning: 'internal service error' },
  { status: 500, code: '111500006', action: 'retry', meaning: 'internal service error' },
  { status: 200, action: 'deleted', meaning: 'deleted, {"message":""}' },
  { status: 204, action: 'deleted', meaning: 'deleted, no body' },
  { status: 502, action: 'retry', meaning: 'bad gateway, no code' },
  { status: 503, action: 'retry', meaning: 'unavailable, no code' },
  { status: 504, action: 'retry', meaning: 'gateway timeout, no code' },
  { status: 408, action: 'retry', meaning: 'request timeout' },
  { status: 302, action: 'misconfigured', meaning: 'a redirect: wrong endpoint' },
];

const NETWORK_KINDS: NetworkErrorKind[] = ['timeout', 'reset', 'refused', 'dns', 'aborted', 'other'];

describe('classifyAttempt: the error table of dcs-api.md', () => {
  it.each(RESPONSE_ROWS)('classifies $status $code ($meaning) as $action', ({ status, code, action }) => {
    const verdict = classifyAttempt({ status, errorCode: code });
    expect(verdict.action).toBe(action);
    expect(verdict.reason).toEqual(code || (status === 404 ? 'http_404_unrecognised' : expect.any(String)));
  });

  it.each(NETWORK_KINDS)('retries a network error of kind %s', (errorKind) => {
    expect(classifyAttempt({ networkError: errorKind })).toEqual({
      action: 'retry',
      reason: `network_${errorKind}`,
    });
  });

  it('names the status in the reason when there is no code', () => {
    expect(classifyAttempt({ status: 503 }).reason).toBe('http_503');
    expect(classifyAttempt({ status: 302 }).reason).toBe('http_302_redirect');
  });
});

describe('classifyAttempt: properties', () => {
  const status = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.constantFrom(NaN, Infinity, -Infinity, 0),
  );
  const code = fc.option(
    fc.oneof(fc.string(), fc.constantFrom('APIGW.0101', '111404022', '111400017', 'APIG.0308', '')),
    { nil: undefined },
  );
  const response = fc.record({ status, errorCode: code });
  const network = fc.record({ networkError: fc.constantFrom(...NETWORK_KINDS) });

  it('never throws and always returns one of ACTIONS with a reason', () => {
    fc.assert(
      fc.property(fc.oneof(response, network), (attempt) => {
        const verdict = classifyAttempt(attempt);
        expect(ACTIONS).toContain(verdict.action);
        expect(typeof verdict.reason).toBe('string');
        expect(verdict.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('reads every 2xx as deleted and every 401 as auth_failed, whatever the code', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 299 }), code, (s, c) => {
        expect(classifyAttempt({ status: s, errorCode: c }).action).toBe('deleted');
        expect(classifyAttempt({ status: 401, errorCode: c }).action).toBe('auth_failed');
      }),
    );
  });

  it('never calls a gateway 404 already_gone', () => {
    fc.assert(
      fc.property(fc.constantFrom('APIGW.', 'APIG.'), fc.string({ maxLength: 8 }), (prefix, rest) => {
        const verdict = classifyAttempt({ status: 404, errorCode: prefix + rest });
        expect(verdict.action).not.toBe('already_gone');
      }),
    );
  });
});
