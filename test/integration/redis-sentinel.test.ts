/**
 * Redis Sentinel (issue 13): a private set of one master, one replica and three sentinels
 * (down-after-milliseconds 1000). The whole pipeline runs as real processes pointed at the
 * sentinels, then again with the master SIGKILLed mid-run. Figures go to the console for
 * docs/reliability.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer } from '../support/private-redis.js';
import { SENTINEL_MASTER, startRedisSentinelSet, type TestSentinelSet } from '../support/redis-sentinel.js';
import { runHaPipeline } from '../support/ha-pipeline.js';
import { waitFor } from '../support/wait-for.js';

const available = hasRedisServer();
if (!available) console.warn('redis-sentinel.test.ts skipped: no redis-server on the PATH (CI installs it)');

describe.skipIf(!available)('Redis Sentinel', () => {
  let set: TestSentinelSet;
  let dir: string;

  beforeAll(async () => {
    set = await startRedisSentinelSet();
    dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-sentinel-run-'));
  }, 90_000);

  afterAll(async () => {
    await set?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    REDIS_SENTINELS: set.sentinels,
    REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
    CLEANUP_PREFIX: `dcs-it-${randomBytes(4).toString('hex')}`,
  });

  it('runs the whole pipeline through the sentinels', async () => {
    const redisEnv = env();
    const figures = await runHaPipeline({ redisEnv, dir, withDeadLetter: true });
    console.log(`[sentinel no failure] ${JSON.stringify(figures)}`);
    // The jobs really are on the master the sentinels name (finished jobs stay an hour).
    const admin = set.admin(await set.masterPort());
    try {
      const [, keys] = await admin.scan('0', 'MATCH', `${redisEnv.CLEANUP_PREFIX}:*`, 'COUNT', 10_000);
      expect(keys.length).toBeGreaterThan(0);
      expect(await admin.dbsize()).toBeGreaterThan(600);
    } finally {
      admin.disconnect();
    }
    expect(figures.lost).toBe(0);
    expect(figures.deadLetters).toBe(0);
  });

  it('follows the promoted replica when the master is SIGKILLed mid-run', async () => {
    const master = await set.masterPort();
    const figures = await runHaPipeline({
      redisEnv: env(),
      dir,
      disrupt: async () => {
        await set.kill(master);
        await waitFor(
          async () => (await set.masterPort()) !== master,
          'the sentinels to promote',
          30_000,
          100,
        );
      },
      disruptAfter: 200,
    });
    console.log(`[sentinel master SIGKILLed] ${JSON.stringify(figures)}`);
    expect(await set.masterPort()).not.toBe(master);
    expect(figures.deadLetters).toBe(0);
  });
});
