import { describe, expect, it } from 'vitest';
import { Credentials } from '../../../src/huawei/credentials.js';
import { signRequest } from '../../../src/huawei/signer.js';
import {
  equalsInConstantTime,
  findSignatureProblem,
  parseAuthorization,
  type ReceivedRequest,
} from '../../../src/emulator/signature-check.js';

const KEY = { credentials: new Credentials('AKEXAMPLE00000000001', 'secret-key') };
const NOW = Date.parse('2025-01-15T09:30:00.000Z');
const URL_ =
  'http://127.0.0.1:9999/v2/0a1b2c3d4e5f60718293a4b5c6d7e8f9/instances/abc/tasks?limit=10&offset=0';

/** What the server would receive for a request our signer signed at `atMs`. */
function received(
  atMs = NOW,
  extra: Record<string, string> = {},
): { request: ReceivedRequest; authorization: string } {
  const signed = signRequest(
    { method: 'GET', url: URL_, headers: { 'X-Project-Id': 'p', ...extra } },
    KEY.credentials,
    new Date(atMs),
  );
  const url = new URL(URL_);
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    request: { method: 'GET', path: url.pathname, query: url.search.slice(1), headers },
    authorization: signed.authorization,
  };
}

function problem(request: ReceivedRequest, authorization: string, key = KEY, nowMs = NOW) {
  return findSignatureProblem(request, parseAuthorization(authorization)!, key, nowMs);
}

describe('parseAuthorization', () => {
  it('reads the AK, the signed header names and the signature', () => {
    expect(
      parseAuthorization('SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ABCdef01'),
    ).toEqual({
      accessKeyId: 'AK1',
      signedHeaders: ['host', 'x-sdk-date'],
      signature: 'abcdef01',
    });
  });

  it.each([
    undefined,
    '',
    'Bearer x',
    'SDK-HMAC-SHA256 Access=AK1, Signature=ab',
    'HMAC-SHA256 Access=a, SignedHeaders=b, Signature=c',
  ])('refuses %j', (value) => {
    expect(parseAuthorization(value)).toBeUndefined();
  });
});

describe('findSignatureProblem', () => {
  it('accepts what the project signer signed, within 15 minutes either way', () => {
    const { request, authorization } = received();
    expect(problem(request, authorization)).toBeUndefined();
    expect(problem(request, authorization, KEY, NOW + 15 * 60_000)).toBeUndefined();
    expect(problem(request, authorization, KEY, NOW - 15 * 60_000)).toBeUndefined();
  });

  it('refuses a date more than 15 minutes off', () => {
    const { request, authorization } = received();
    expect(problem(request, authorization, KEY, NOW + 15 * 60_000 + 1000)).toMatch(/15 minutes/);
  });

  it('refuses a changed query, method or header value', () => {
    const { request, authorization } = received();
    expect(problem({ ...request, query: 'limit=11&offset=0' }, authorization)).toBe('signature mismatch');
    expect(problem({ ...request, method: 'DELETE' }, authorization)).toBe('signature mismatch');
    expect(problem({ ...request, headers: { ...request.headers, 'x-project-id': 'q' } }, authorization)).toBe(
      'signature mismatch',
    );
  });

  it('accepts the query parameters in any order, as the canonical query sorts them', () => {
    const { request, authorization } = received();
    expect(problem({ ...request, query: 'offset=0&limit=10' }, authorization)).toBeUndefined();
  });

  it('refuses a body that was not signed', () => {
    const { request, authorization } = received();
    expect(problem({ ...request, body: Buffer.from('{}') }, authorization)).toBe('signature mismatch');
  });

  it('requires the configured security token, sent and signed', () => {
    const withToken = { ...KEY, securityToken: 'tok' };
    const unsigned = received();
    expect(problem(unsigned.request, unsigned.authorization, withToken)).toMatch(/x-security-token/);
    const signed = received(NOW, { 'X-Security-Token': 'tok' });
    expect(problem(signed.request, signed.authorization, withToken)).toBeUndefined();
    const wrong = received(NOW, { 'X-Security-Token': 'other' });
    expect(problem(wrong.request, wrong.authorization, withToken)).toMatch(/x-security-token/);
  });
});

describe('equalsInConstantTime', () => {
  it('compares equal and unequal strings, including different lengths', () => {
    expect(equalsInConstantTime('abc', 'abc')).toBe(true);
    expect(equalsInConstantTime('abc', 'abd')).toBe(false);
    expect(equalsInConstantTime('abc', 'abcd')).toBe(false);
  });
});
