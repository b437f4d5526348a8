import { describe, expect, it } from 'vitest';
import {
  createRefreshingCredentialProvider,
  createStaticCredentialProvider,
  type IssuedCredentials,
} from '../../../src/huawei/credential-provider.js';
import { Credentials } from '../../../src/huawei/credentials.js';
import { isCleanupError } from '../../../src/errors.js';

const MINUTE = 60_000;

/** A source issuing a new set per fetch, living `lifetimeMs` on the test's clock; fetches wait for release. */
function createSource(clock: { ms: number }, lifetimeMs: number) {
  const pending: { resolve: (v: IssuedCredentials) => void; reject: (e: Error) => void }[] = [];
  let count = 0;
  return {
    fetches: () => count,
    fetch: () =>
      new Promise<IssuedCredentials>((resolve, reject) => {
        count += 1;
        pending.push({ resolve, reject });
      }),
    release() {
      const next = pending.shift()!;
      next.resolve({
        credentials: new Credentials(`TMPAK${count}`, `secret-${count}`, `token-${count}`),
        expiresAtMs: clock.ms + lifetimeMs,
      });
    },
    fail() {
      pending.shift()!.reject(new Error('metadata service down'));
    },
  };
}

function setup(lifetimeMs = 60 * MINUTE, extra: { refreshOnEveryRejection?: boolean } = {}) {
  const clock = { ms: 1_000_000 };
  const source = createSource(clock, lifetimeMs);
  const provider = createRefreshingCredentialProvider({
    fetch: source.fetch,
    now: () => clock.ms,
    random: () => 0.5,
    refreshMarginMs: 15 * MINUTE,
    refreshJitterMs: 2 * MINUTE,
    retryMs: 5_000,
    ...extra,
  });
  return { clock, source, provider };
}

async function firstSet(s: ReturnType<typeof setup>): Promise<Credentials> {
  const pending = s.provider.fresh();
  s.source.release();
  return pending;
}

describe('refreshing credential provider', () => {
  it('fetches once for many concurrent callers (single flight)', async () => {
    const s = setup();
    expect(s.provider.current()).toBeUndefined();
    const all = Promise.all([s.provider.fresh(), s.provider.fresh(), s.provider.fresh()]);
    s.source.release();
    const [a, b, c] = await all;
    expect(s.source.fetches()).toBe(1);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(s.provider.current()).toBe(a);
  });

  it('serves the cached set without fetching until the margin and jitter before expiry', async () => {
    const s = setup();
    const first = await firstSet(s);
    // expires at +60 min; refresh at 60 - 15 - 0.5 x 2 = +44 min.
    s.clock.ms += 43 * MINUTE;
    expect(s.provider.current()).toBe(first);
    expect(s.source.fetches()).toBe(1);
    s.clock.ms += 1 * MINUTE + 1;
    expect(s.provider.current()).toBe(first); // still served while the refresh runs
    expect(s.provider.current()).toBe(first);
    expect(s.source.fetches()).toBe(2); // one background refresh, not one per call
    s.source.release();
    await Promise.resolve();
    await Promise.resolve();
    const second = s.provider.current();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
  });

  it('uses at least half the lifetime of a short-lived set before refreshing it', async () => {
    const s = setup(10 * MINUTE);
    const first = await firstSet(s);
    s.clock.ms += 5 * MINUTE - 1;
    expect(s.provider.current()).toBe(first);
    expect(s.source.fetches()).toBe(1);
    s.clock.ms += 1;
    s.provider.current();
    expect(s.source.fetches()).toBe(2);
  });

  it('makes callers wait once the set is past its usable end', async () => {
    const s = setup();
    await firstSet(s);
    s.clock.ms += 60 * MINUTE;
    expect(s.provider.current()).toBeUndefined();
    const waiting = s.provider.fresh();
    s.source.release();
    expect((await waiting).accessKeyId).toMatch(/^TMPAK/);
  });

  it('keeps the current set when a background refresh fails, and retries only after retryMs', async () => {
    const errors: unknown[] = [];
    const clock = { ms: 0 };
    const source = createSource(clock, 60 * MINUTE);
    const provider = createRefreshingCredentialProvider({
      fetch: source.fetch,
      now: () => clock.ms,
      random: () => 0,
      refreshMarginMs: 15 * MINUTE,
      refreshJitterMs: 0,
      retryMs: 5_000,
      onRefreshError: (e) => errors.push(e),
    });
    const pending = provider.fresh();
    source.release();
    const first = await pending;
    clock.ms = 46 * MINUTE;
    expect(provider.current()).toBe(first);
    source.fail();
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
    expect(provider.current()).toBe(first);
    expect(source.fetches()).toBe(2);
    clock.ms += 5_000;
    provider.current();
    expect(source.fetches()).toBe(3);
  });

  it('fails with CREDENTIALS_UNAVAILABLE when no usable set can be fetched', async () => {
    const s = setup();
    const pending = s.provider.fresh();
    s.source.fail();
    const err = await pending.catch((e: unknown) => e);
    expect(isCleanupError(err, 'CREDENTIALS_UNAVAILABLE')).toBe(true);
    // Within retryMs a caller does not fetch again: it gets the same failure at once.
    const again = await s.provider.fresh().catch((e: unknown) => e);
    expect(isCleanupError(again, 'CREDENTIALS_UNAVAILABLE')).toBe(true);
    expect(s.source.fetches()).toBe(1);
  });
});

describe('renewAfterRejection (a 401)', () => {
  it('answers undefined for a 401 before any refresh was due: a genuine failure, for the breaker', async () => {
    const s = setup();
    const first = await firstSet(s);
    s.clock.ms += 10 * MINUTE;
    expect(await s.provider.renewAfterRejection(first)).toBeUndefined();
    expect(s.source.fetches()).toBe(1);
  });

  it('refreshes once and answers the new set for a 401 after a refresh was due', async () => {
    const s = setup();
    const first = await firstSet(s);
    s.clock.ms += 50 * MINUTE;
    const a = s.provider.renewAfterRejection(first);
    const b = s.provider.renewAfterRejection(first);
    s.source.release();
    const [renewedA, renewedB] = await Promise.all([a, b]);
    expect(renewedA).toBeDefined();
    expect(renewedA).not.toBe(first);
    expect(renewedB).toBe(renewedA);
    expect(s.source.fetches()).toBe(2);
  });

  it('answers the newest set, without fetching, for a 401 to credentials older than the newest', async () => {
    const s = setup();
    const first = await firstSet(s);
    s.clock.ms += 50 * MINUTE;
    s.provider.current();
    s.source.release();
    await new Promise((r) => setImmediate(r));
    const newest = s.provider.current();
    expect(newest).not.toBe(first);
    s.clock.ms += 1;
    expect(await s.provider.renewAfterRejection(first)).toBe(newest);
    expect(s.source.fetches()).toBe(2);
  });

  it('re-reads a source after every 401 when asked (a file), but answers undefined when nothing changed', async () => {
    const clock = { ms: 0 };
    let content = { ak: 'AKONE', sk: 'sk-one' };
    let reads = 0;
    const sets = new Map<string, Credentials>();
    const provider = createRefreshingCredentialProvider({
      fetch: () => {
        reads += 1;
        const key = `${content.ak}:${content.sk}`;
        if (!sets.has(key)) sets.set(key, new Credentials(content.ak, content.sk));
        return Promise.resolve({ credentials: sets.get(key)! });
      },
      now: () => clock.ms,
      random: () => 0,
      refreshMarginMs: 0,
      refreshJitterMs: 0,
      recheckMs: 10_000,
      refreshOnEveryRejection: true,
    });
    const one = await provider.fresh();
    expect(await provider.renewAfterRejection(one)).toBeUndefined();
    expect(reads).toBe(2);
    content = { ak: 'AKTWO', sk: 'sk-two' };
    const two = await provider.renewAfterRejection(one);
    expect(two?.accessKeyId).toBe('AKTWO');
    // Unchanged file, new Credentials object with the same keys: still the same set.
    sets.clear();
    expect(await provider.renewAfterRejection(two!)).toBeUndefined();
  });

  it('re-reads a source without expiry every recheckMs', async () => {
    const clock = { ms: 0 };
    let reads = 0;
    const creds = new Credentials('AKONE', 'sk-one');
    const provider = createRefreshingCredentialProvider({
      fetch: () => {
        reads += 1;
        return Promise.resolve({ credentials: creds });
      },
      now: () => clock.ms,
      random: () => 0,
      refreshMarginMs: 0,
      refreshJitterMs: 0,
      recheckMs: 10_000,
    });
    await provider.fresh();
    clock.ms = 9_999;
    provider.current();
    expect(reads).toBe(1);
    clock.ms = 10_000;
    expect(provider.current()).toBe(creds);
    expect(reads).toBe(2);
  });
});

describe('static credential provider', () => {
  it('always serves its keys and never renews them', async () => {
    const creds = new Credentials('AK', 'sk');
    const provider = createStaticCredentialProvider(creds);
    expect(provider.current()).toBe(creds);
    expect(await provider.fresh()).toBe(creds);
    expect(await provider.renewAfterRejection(creds)).toBeUndefined();
  });
});
