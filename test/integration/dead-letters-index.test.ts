/**
 * Dead letters at volume: filtered listings read their index, not every record (issue 11), a slow
 * request on a healthy Redis is not an outage, and retention drops what is too old or too many.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../src/queue/redis-connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/api-error.js';
import { withRedis } from '../../src/api/redis-guard.js';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createDeadLetters, type DeadLetterReason, type DeadLetters } from '../../src/queue/dead-letters.js';
import { createDeadLetterTrim } from '../../src/queue/dead-letter-retention.js';
import { captureLogger } from '../support/log-capture.js';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';
import { createAppApi } from '../support/app-api.js';

const TOKEN = 'dead-letter-index-test-token';
const DAY_MS = 86_400_000;

function record(reason: DeadLetterReason, errorCode: string | null, n: number) {
  return {
    job_id: `del-p-i-t${n}`,
    job_data: { project_id: 'p', instance_id: 'i', task_id: `t${n}` },
    reason,
    http_status: errorCode === null ? null : 400,
    error_code: errorCode,
    error_msg: null,
    request_id: null,
    attempts: 1,
    history: [],
    first_attempt_at: null,
    last_attempt_at: null,
  };
}

/** Adds `count` records, `rare(n)` deciding which are rejected 111400070 among retries_exhausted ones. */
async function addMany(dl: DeadLetters, count: number, rare: (n: number) => boolean, from = 0) {
  for (let start = from; start < from + count; start += 500) {
    const chunk = Array.from({ length: Math.min(500, from + count - start) }, (_, k) => start + k);
    await Promise.all(
      chunk.map((n) =>
        dl.add(
          rare(n) ? record('rejected', '111400070', n) : record('retries_exhausted', '111500000', n),
          `del-p-i-t${n}-1`,
        ),
      ),
    );
  }
}

describe.runIf(hasRedisServer())('GET /v1/dead-letters with a filter, among thousands of records', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let app: App;
  let api: FastifyInstance;
  const RARE = new Set([700, 2100, 3900]);

  beforeAll(async () => {
    redis = await startPrivateRedis();
    admin = redis.admin();
    app = createApp(configSchema.parse({ REDIS_URL: redis.url, CLEANUP_PREFIX: 'dl-index' }), {
      role: 'api',
      logger: captureLogger('warn').logger,
    });
    await new Promise((resolve) => app.connection.once('ready', resolve));
    await addMany(app.deadLetters(), 4_000, (n) => RARE.has(n));
    api = createAppApi(app, {
      logger: captureLogger('warn').logger,
      auth: { token: TOKEN },
      bullBoard: false,
    });
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await app?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  /** Records read from Redis (one HGETALL each) while `run` runs. */
  async function recordsRead(run: () => Promise<unknown>): Promise<number> {
    const calls = async () =>
      Number(/cmdstat_hgetall:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    await run();
    return (await calls()) - before;
  }

  const get = (query: string) =>
    api.inject({ url: `/v1/dead-letters?${query}`, headers: { authorization: `Bearer ${TOKEN}` } });

  it('answers the 3 matches of 4003 records reading only those, by reason, by code and by both', async () => {
    for (const query of ['reason=rejected', 'error_code=111400070', 'reason=rejected&error_code=111400070']) {
      let body: { dead_letters: { job_id: string }[]; total: number; next?: number } | undefined;
      const read = await recordsRead(async () => {
        const res = await get(query);
        expect(res.statusCode, res.body).toBe(200);
        body = res.json();
      });
      expect(body!.dead_letters.map((d) => d.job_id)).toEqual([...RARE].map((n) => `del-p-i-t${n}`));
      expect(body!.total).toBe(4_000);
      expect(body!.next).toBeUndefined();
      expect(read, query).toBeLessThan(20);
    }
  });

  it('pages a filter with a cursor', async () => {
    const first = (await get('reason=rejected&limit=2')).json<{ dead_letters: unknown[]; next?: number }>();
    expect(first.dead_letters).toHaveLength(2);
    expect(first.next).toBeDefined();
    const second = (await get(`reason=rejected&limit=2&cursor=${first.next}`)).json<{
      dead_letters: { job_id: string }[];
      next?: number;
    }>();
    expect(second.dead_letters.map((d) => d.job_id)).toEqual(['del-p-i-t3900']);
    expect(second.next).toBeUndefined();
  });

  it('answers a match of none with both filters after reading only the code index, not the other codes', async () => {
    // 3997 records have code 111500000, none of them reason rejected.
    const read = await recordsRead(async () => {
      const res = await get('reason=retries_exhausted&error_code=111400070');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ dead_letters: [], total: 4_000 });
    });
    expect(read).toBeLessThan(20);
  });
});

describe('a slow request on a healthy Redis', () => {
  it('is answered 504 REDIS_TIMEOUT, not 503 "Redis is unavailable"', async () => {
    const app = createApp(configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: uniquePrefix('slow') }), {
      role: 'api',
      logger: captureLogger('warn').logger,
    });
    await new Promise((resolve) => app.connection.once('ready', resolve));
    try {
      const error = await withRedis(app.connection, () => new Promise(() => undefined), 50).catch(
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'REDIS_TIMEOUT', statusCode: 504 });
    } finally {
      await app.close();
    }
  });
});

describe('dead-letter retention', () => {
  const prefix = uniquePrefix('dl-retention');
  let connection: RedisClient;
  let app: App;

  beforeAll(() => {
    app = createApp(configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: prefix }), {
      role: 'worker',
      logger: captureLogger('warn').logger,
    });
    connection = app.connection;
  });

  afterAll(async () => {
    await app?.close();
    await deletePrefix(prefix);
  });

  it('drops what is older than the max age and the oldest past the max count, in batches, counting and logging it', async () => {
    const now = Date.now();
    const old = createDeadLetters({ connection, prefix, now: () => now - 40 * DAY_MS });
    // One millisecond apart, in the order they are added (the index orders by time).
    let tick = 0;
    const recent = createDeadLetters({ connection, prefix, now: () => now - DAY_MS + tick++ });
    await addMany(old, 600, (n) => n % 100 === 0);
    for (let n = 600; n < 1_800; n++) {
      await recent.add(
        n % 100 === 0 ? record('rejected', '111400070', n) : record('retries_exhausted', null, n),
        `del-p-i-t${n}-1`,
      );
    }
    const logs = captureLogger('info');
    const metrics = createMetrics({ processMetrics: false });
    const trim = createDeadLetterTrim({
      connection,
      deadLetters: recent,
      retention: { maxAgeMs: 30 * DAY_MS, maxCount: 1_000 },
      logger: logs.logger,
      metrics,
      lockMs: 60_000,
    });

    expect(await trim()).toEqual({ max_age: 600, max_count: 200 });
    expect(await recent.count()).toBe(1_000);
    expect(await recent.index.size()).toBe(1_000);
    // The oldest recent ones went: t600..t799.
    const kept = await recent.list({}, 1);
    expect(kept[0]!.job_id).toBe('del-p-i-t800');
    expect(await recent.list({ reason: 'rejected' })).toHaveLength(10);
    const dropped = await metrics.registry.getSingleMetricAsString('dcs_cleanup_dead_letters_dropped_total');
    expect(dropped).toContain('dcs_cleanup_dead_letters_dropped_total{reason="max_age"} 600');
    expect(dropped).toContain('dcs_cleanup_dead_letters_dropped_total{reason="max_count"} 200');
    expect(logs.records.filter((r) => r.msg === 'dead letters trimmed')).toMatchObject([
      { reason: 'max_age', dropped: 600 },
      { reason: 'max_count', dropped: 200 },
    ]);
    expect(await trim()).toEqual({ max_age: 0, max_count: 0 });
    await old.close();
    await recent.close();
  });

  it('indexes the records written before the index existed, once, on its first pass', async () => {
    const dl = createDeadLetters({ connection, prefix: `${prefix}-old` });
    await addMany(dl, 50, (n) => n < 5);
    // As a release without the index left them: no index keys, no marker.
    const keys = await connection.keys(`${prefix}-old:dcs-cleanup-dead:index:*`);
    expect(keys.length).toBeGreaterThan(0);
    await connection.del(...keys);
    expect(await dl.list({ reason: 'rejected' })).toHaveLength(0);
    const trim = createDeadLetterTrim({
      connection,
      deadLetters: dl,
      retention: { maxAgeMs: 0, maxCount: 0 },
      logger: captureLogger('warn').logger,
      lockMs: 60_000,
    });
    await trim();
    expect(await dl.list({ reason: 'rejected' })).toHaveLength(5);
    expect(await dl.index.size()).toBe(50);
    await dl.close();
    await deletePrefix(`${prefix}-old`);
  });
});
