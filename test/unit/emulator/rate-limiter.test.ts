import { describe, expect, it } from 'vitest';
import { createRateLimiter, parseRateLimitSettings } from '../../../src/emulator/rate-limiter.js';
import { isCleanupError } from '../../../src/errors.js';

describe('createRateLimiter (sliding window per AK and API)', () => {
  it('allows the limit within any sliding second, then refuses until the oldest call leaves it', () => {
    let clock = 10_500;
    const limiter = createRateLimiter({ limit: 2 }, () => clock);
    expect([
      limiter.take('AK1', 'delete'),
      limiter.take('AK1', 'delete'),
      limiter.take('AK1', 'delete'),
    ]).toEqual([true, true, false]);
    // A fixed window would open again at 11_000; the sliding one only 1 s after the first call.
    clock = 11_000;
    expect(limiter.take('AK1', 'delete')).toBe(false);
    clock = 11_499;
    expect(limiter.take('AK1', 'delete')).toBe(false);
    clock = 11_500;
    expect([
      limiter.take('AK1', 'delete'),
      limiter.take('AK1', 'delete'),
      limiter.take('AK1', 'delete'),
    ]).toEqual([true, true, false]);
  });

  it('counts each access key and each API apart', () => {
    const limiter = createRateLimiter({ limit: 1 }, () => 0);
    expect(limiter.take('AK1', 'delete')).toBe(true);
    expect(limiter.take('AK1', 'delete')).toBe(false);
    expect(limiter.take('AK1', 'listTasks')).toBe(true);
    expect(limiter.take('AK2', 'delete')).toBe(true);
  });

  it('does not count refused calls', () => {
    let clock = 0;
    const limiter = createRateLimiter({ limit: 1 }, () => clock);
    limiter.take('AK1', 'delete');
    clock = 900;
    expect(limiter.take('AK1', 'delete')).toBe(false);
    clock = 1_000;
    expect(limiter.take('AK1', 'delete')).toBe(true);
  });

  it('holds a per-minute window and says so in the gateway message', () => {
    let clock = 0;
    const limiter = createRateLimiter({ limit: 2, per: 'minute' }, () => clock);
    limiter.take('AK1', 'delete');
    limiter.take('AK1', 'delete');
    clock = 59_999;
    expect(limiter.take('AK1', 'delete')).toBe(false);
    expect(limiter.refusalMessage()).toContain('policy user over ratelimit, limit:2, time:1 minute');
    clock = 60_000;
    expect(limiter.take('AK1', 'delete')).toBe(true);
  });

  it('never refuses with a limit of 0, and forgets its windows on reset or a new limit', () => {
    const off = createRateLimiter({ limit: 0 }, () => 0);
    for (let i = 0; i < 1000; i++) expect(off.take('AK1', 'delete')).toBe(true);
    const limiter = createRateLimiter({ limit: 1 }, () => 0);
    limiter.take('AK1', 'delete');
    expect(limiter.take('AK1', 'delete')).toBe(false);
    limiter.reset();
    expect(limiter.take('AK1', 'delete')).toBe(true);
    limiter.set({ limit: 2, per: 'second' });
    expect(limiter.settings()).toEqual({ limit: 2, per: 'second' });
    expect([limiter.take('AK1', 'delete'), limiter.take('AK1', 'delete')]).toEqual([true, true]);
    expect(limiter.refusalMessage()).toContain('limit:2, time:1 second');
  });

  it('gives the access keys named in accessKeys their own limit, the others the common one', () => {
    const limiter = createRateLimiter({ limit: 3, accessKeys: { SLOW: 1, FREE: 0 } }, () => 0);
    const take = (ak: string, n: number) => Array.from({ length: n }, () => limiter.take(ak, 'delete'));
    expect(take('SLOW', 2)).toEqual([true, false]);
    expect(take('OTHER', 4)).toEqual([true, true, true, false]);
    expect(take('FREE', 50).every(Boolean)).toBe(true);
    expect(limiter.refusalMessage('SLOW')).toContain('limit:1, time:1 second');
    expect(limiter.refusalMessage('OTHER')).toContain('limit:3, time:1 second');
    expect(limiter.settings()).toEqual({ limit: 3, per: 'second', accessKeys: { SLOW: 1, FREE: 0 } });
    limiter.set({ limit: 3 });
    expect(limiter.settings()).toEqual({ limit: 3, per: 'second' });
    expect(take('SLOW', 3)).toEqual([true, true, true]);
  });

  it('refuses bad settings naming the field', () => {
    for (const bad of [
      { limit: -1 },
      { limit: 1, per: 'hour' },
      { limit: 1.5 },
      { limit: 1, extra: 1 },
      { limit: 1, accessKeys: { AK: -1 } },
    ]) {
      let caught: unknown;
      try {
        parseRateLimitSettings(bad);
      } catch (err) {
        caught = err;
      }
      expect(isCleanupError(caught, 'INVALID_INPUT'), JSON.stringify(bad)).toBe(true);
    }
  });
});
