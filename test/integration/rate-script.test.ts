/** The shared limiter's Lua script on the real Redis: spacing, AIMD cuts and Retry-After. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import {
  DEFAULT_AUTO_RATE,
  rateKey,
  readRateState,
  runRateScript,
} from '../../src/queue/rate-control/rate-script.js';
import { createRateGate } from '../../src/queue/rate-control/rate-gate.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';

let connection: RedisClient;
const prefix = uniquePrefix('rate-script');
beforeAll(() => {
  connection = createRedisConnection(REDIS_URL, 'worker');
});
afterAll(async () => {
  connection.disconnect();
  await deletePrefix(prefix);
});

describe('the shared limiter script', () => {
  it('hands out send times one interval apart, whoever asks (a fixed 10/s)', async () => {
    const key = rateKey(prefix, 'fixed');
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      waits.push((await runRateScript(connection, key, 'acquire', 10, DEFAULT_AUTO_RATE)).waitMs);
    }
    // Back-to-back calls: each send time is 100 ms after the previous one (less the time the calls took).
    for (let i = 1; i < waits.length; i++) {
      expect(waits[i]! - waits[i - 1]!).toBeGreaterThan(60);
      expect(waits[i]! - waits[i - 1]!).toBeLessThanOrEqual(100);
    }
    expect(await readRateState(connection, prefix, 'fixed')).toMatchObject({ mode: 'fixed', per_second: 10 });
  });

  it('auto: lets a lone 429 pass, cuts once for a burst within the cooldown, and a Retry-After holds every send', async () => {
    const key = rateKey(prefix, 'auto');
    const settings = { ...DEFAULT_AUTO_RATE, start: 100, cut: 0.5, cooldownMs: 60_000 };
    await runRateScript(connection, key, 'acquire', 'auto', settings);
    const lone = await runRateScript(connection, key, 'throttled', 'auto', settings);
    const first = await runRateScript(connection, key, 'throttled', 'auto', settings);
    const second = await runRateScript(connection, key, 'throttled', 'auto', settings, 2_000);
    expect(lone.ratePerSecond).toBe(100);
    expect(first.ratePerSecond).toBe(50);
    expect(second.ratePerSecond).toBe(50);
    const next = await runRateScript(connection, key, 'acquire', 'auto', settings);
    expect(next.waitMs).toBeGreaterThan(1_900);
    expect(await readRateState(connection, prefix, 'auto')).toMatchObject({
      mode: 'auto',
      per_second: 50,
      cuts: 1,
    });
  });

  it('auto: never cuts under the minimum', async () => {
    const key = rateKey(prefix, 'floor');
    const settings = { ...DEFAULT_AUTO_RATE, start: 4, min: 3, cut: 0.5, cooldownMs: 0 };
    await runRateScript(connection, key, 'throttled', 'auto', settings);
    expect((await runRateScript(connection, key, 'throttled', 'auto', settings)).ratePerSecond).toBe(3);
  });
});

describe('the rate gate', () => {
  it('hands the next send time to an urgent request before the bulk ones already waiting', async () => {
    const gate = createRateGate({ connection, prefix, account: 'gate', limit: 20 });
    const order: string[] = [];
    const bulk = Array.from({ length: 6 }, (_, i) => gate.acquire('bulk').then(() => order.push(`bulk${i}`)));
    const urgent = gate.acquire('urgent').then(() => order.push('urgent'));
    await Promise.all([...bulk, urgent]);
    // The first bulk request may have had its send time at once; the urgent one comes next at the latest.
    expect(order.indexOf('urgent')).toBeLessThanOrEqual(1);
  });

  it('lets an aborted wait go at once', async () => {
    const gate = createRateGate({ connection, prefix, account: 'abort', limit: 1 });
    await gate.acquire('bulk');
    const controller = new AbortController();
    const waiting = gate.acquire('bulk', controller.signal);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});
