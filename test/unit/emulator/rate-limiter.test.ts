import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../src/emulator/rate-limiter.js';

describe('createRateLimiter', () => {
  it('allows the limit per route and second, then refuses until the next second', () => {
    let clock = 10_500;
    const limiter = createRateLimiter(2, () => clock);
    expect([limiter.take('delete'), limiter.take('delete'), limiter.take('delete')]).toEqual([
      true,
      true,
      false,
    ]);
    expect(limiter.take('listTasks')).toBe(true);
    clock = 10_999;
    expect(limiter.take('delete')).toBe(false);
    clock = 11_000;
    expect(limiter.take('delete')).toBe(true);
  });

  it('never refuses with a limit of 0', () => {
    const limiter = createRateLimiter(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(limiter.take('delete')).toBe(true);
  });

  it('forgets the current windows on reset', () => {
    const limiter = createRateLimiter(1, () => 0);
    limiter.take('delete');
    expect(limiter.take('delete')).toBe(false);
    limiter.reset();
    expect(limiter.take('delete')).toBe(true);
  });
});
