import { describe, expect, it } from 'vitest';
import { createAuthGuard } from '../../../src/emulator/auth-guard.js';
import type { ReceivedRequest } from '../../../src/emulator/signature-check.js';
import { Credentials } from '../../../src/huawei/credentials.js';
import { signRequest } from '../../../src/huawei/signer.js';

const AK = 'AKEXAMPLE00000000001';
const URL_ = 'http://127.0.0.1:9999/v2/p/instances';

function request(sk: string, atMs: number): ReceivedRequest {
  const signed = signRequest({ method: 'GET', url: URL_ }, new Credentials(AK, sk), new Date(atMs));
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'GET', path: '/v2/p/instances', query: '', headers };
}

function guardAt(clock: { ms: number }) {
  return createAuthGuard({
    keys: [{ ak: AK, sk: 'right' }],
    now: () => clock.ms,
    maxFailures: 5,
    lockoutMs: 60_000,
  });
}

describe('createAuthGuard', () => {
  it('locks the AK on the sixth failure in a row and refuses a good signature until the lockout ends', () => {
    const clock = { ms: Date.parse('2025-01-15T09:30:00Z') };
    const guard = guardAt(clock);
    for (let i = 0; i < 5; i++) expect(guard.check(request('wrong', clock.ms)).ok).toBe(false);
    expect(guard.lockedAccessKeys()).toEqual([]);
    expect(guard.check(request('wrong', clock.ms)).ok).toBe(false);
    expect(guard.lockedAccessKeys()).toEqual([AK]);
    expect(guard.check(request('right', clock.ms))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/locked/),
    });
    clock.ms += 60_000;
    expect(guard.check(request('right', clock.ms))).toEqual({ ok: true, accessKeyId: AK });
  });

  it('starts a new streak after the lockout ends', () => {
    const clock = { ms: Date.parse('2025-01-15T09:30:00Z') };
    const guard = guardAt(clock);
    for (let i = 0; i < 6; i++) guard.check(request('wrong', clock.ms));
    clock.ms += 60_000;
    expect(guard.check(request('wrong', clock.ms)).ok).toBe(false);
    expect(guard.lockedAccessKeys()).toEqual([]);
  });

  it('resets the streak on a success', () => {
    const clock = { ms: Date.parse('2025-01-15T09:30:00Z') };
    const guard = guardAt(clock);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) guard.check(request('wrong', clock.ms));
      expect(guard.check(request('right', clock.ms)).ok).toBe(true);
    }
  });

  it('refuses a missing Authorization and an unknown AK without locking anything', () => {
    const clock = { ms: Date.parse('2025-01-15T09:30:00Z') };
    const guard = guardAt(clock);
    const unsigned = { ...request('right', clock.ms), headers: {} };
    for (let i = 0; i < 10; i++)
      expect(guard.check(unsigned)).toMatchObject({ ok: false, reason: /Authorization/ });
    expect(guard.lockedAccessKeys()).toEqual([]);
  });

  it('forgets lockouts on reset', () => {
    const clock = { ms: Date.parse('2025-01-15T09:30:00Z') };
    const guard = guardAt(clock);
    for (let i = 0; i < 6; i++) guard.check(request('wrong', clock.ms));
    guard.reset();
    expect(guard.check(request('right', clock.ms)).ok).toBe(true);
  });
});
