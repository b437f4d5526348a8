/**
 * The worker's metrics server while its Redis is down (issue 11): `/metrics` answers within its
 * sampling deadline with the last samples, `/healthz` answers at once from in-process state and turns
 * 503 only once Redis has been silent longer than WORKER_HEALTH_GRACE_MS, then 200 again when Redis is
 * back. A private redis-server is killed and restarted; the shared one is never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, DEMO_CREDENTIALS, type Emulator } from '../../src/emulator/emulator.js';
import { freePort } from '../../src/demo/private-redis.js';
import { runCli, startCli, type CliProcess } from '../support/cli-process.js';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

const GRACE_MS = 3_000;
/** Far above the 1 s sampling deadline, yet a scrape that waits on Redis would never get there. */
const ANSWER_WITHIN_MS = 15_000;

let redis: PrivateRedis;
let emulator: Emulator;
let worker: CliProcess;
let base: string;
let metricsPort: number;

/** The container's health check: `dcs-cleanup healthcheck --worker`, as the image runs it. */
const runHealthcheck = () => runCli(['healthcheck', '--worker'], { METRICS_PORT: String(metricsPort) });

async function get(path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  return { status: response.status, body: await response.text() };
}

describe.skipIf(!hasRedisServer())('worker /healthz and /metrics without Redis (needs redis-server)', () => {
  beforeAll(async () => {
    redis = await startPrivateRedis();
    emulator = await startEmulator({ rateLimitPerSecond: 0 });
    const port = (metricsPort = await freePort());
    base = `http://127.0.0.1:${port}`;
    worker = startCli(['worker', '--concurrency', '2'], {
      REDIS_URL: redis.url,
      CLEANUP_PREFIX: uniquePrefix('worker-health'),
      CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
      CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
      DCS_ENDPOINT: emulator.url,
      METRICS_PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      WORKER_HEALTH_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: 'warn',
    });
    await waitFor(
      () =>
        get('/healthz').then(
          (r) => r.status === 200,
          () => false,
        ),
      'the worker',
      30_000,
      100,
    );
  });

  afterAll(async () => {
    if (worker?.child.exitCode === null) worker.child.kill('SIGKILL');
    await worker?.exited;
    await emulator?.close();
    await redis?.stop();
  });

  it('serves the queue gauges and a healthy /healthz while Redis answers', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^dcs_cleanup_queue_jobs\{state="waiting",account="default"\} 0$/m);
    const health = await get('/healthz');
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', grace_ms: GRACE_MS });
    expect((await runHealthcheck()).code).toBe(0);
  });

  it('answers /metrics and /healthz while Redis is down, and turns unhealthy only after the grace', async () => {
    await redis.kill('SIGKILL');
    const killedAt = Date.now();

    // At once, and still healthy: a Redis blip is not a reason to restart a worker.
    const during = await get('/healthz');
    expect(during.status).toBe(200);
    expect(JSON.parse(during.body)).toMatchObject({ status: 'ok' });

    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    // The last samples, not an empty page.
    expect(metrics.body).toMatch(/^dcs_cleanup_queue_jobs\{state="waiting",account="default"\} 0$/m);

    const unhealthy = await waitFor(
      async () => {
        const r = await get('/healthz');
        if (r.status === 200) return undefined;
        return r;
      },
      '/healthz to turn 503',
      60_000,
      100,
    );
    // Not before the grace: the last PING that succeeded (a quarter of the grace apart) counts from
    // before the kill.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual((GRACE_MS * 3) / 4);
    expect(unhealthy.status).toBe(503);
    const report = JSON.parse(unhealthy.body) as { status: string; redis_silent_ms: number };
    expect(report.status).toBe('unhealthy');
    expect(report.redis_silent_ms).toBeGreaterThan(GRACE_MS);
    expect(worker.child.exitCode, 'the worker keeps running through the outage').toBeNull();
    const check = await runHealthcheck();
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('answered 503');
  });

  it('refuses `healthcheck --worker` without a metrics port, naming METRICS_PORT', async () => {
    const check = await runCli(['healthcheck', '--worker'], { METRICS_PORT: '0' });
    expect(check.code).toBe(64);
    expect(check.stderr).toContain('METRICS_PORT');
  });

  it('is healthy again once Redis is back', async () => {
    await redis.restart();
    await waitFor(() => get('/healthz').then((r) => r.status === 200), '/healthz 200 again', 60_000, 100);
    expect((await get('/metrics')).status).toBe(200);
  });
});
