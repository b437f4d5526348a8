/**
 * The composition root's services (src/app/start-worker.ts, src/app/start-api.ts) on the shared
 * Redis under a unique prefix: what they start answers, and one close() releases all of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { createApp, startApi, startWorker, type App } from '../../src/app.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { openQueue } from '../../src/queue/open-queue.js';
import { SCHEDULE_QUEUE_NAME } from '../../src/queue/schedules.js';
import { freePort } from '../../src/demo/private-redis.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

let app: App | undefined;
let prefix = '';

afterEach(async () => {
  await app?.close();
  app = undefined;
  await deletePrefix(prefix);
});

function appFor(label: string, env: Record<string, string> = {}): App {
  prefix = uniquePrefix(label);
  const config = configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: prefix, ...env });
  app = createApp(config, { role: 'worker', logger: captureLogger('info').logger });
  return app;
}

const answers = async (url: string): Promise<number | undefined> =>
  (await fetch(url).catch(() => undefined))?.status;

describe('startWorker', () => {
  it('starts the pool, the schedule worker and /healthz, and close() releases every one', async () => {
    const port = await freePort();
    const a = appFor('app-worker', { METRICS_PORT: String(port), WORKER_CONCURRENCY: '3' });
    const worker = await startWorker(a, {
      credentials: new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk),
      shutdownTimeoutMs: 500,
    });
    const deletions = openQueue(a.connection, a.prefix);
    const schedules = openQueue(a.connection, a.prefix, SCHEDULE_QUEUE_NAME);
    try {
      expect(worker.settings).toMatchObject({ concurrency: 3, metricsPort: port, shutdownTimeoutMs: 500 });
      expect(worker.metricsPort).toBe(port);
      expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      expect(await deletions.getWorkersCount()).toBe(1);
      expect(await schedules.getWorkersCount()).toBe(1);

      await worker.close();
      // CLIENT LIST may still show a connection that has just sent QUIT.
      const registered = async () =>
        (await deletions.getWorkersCount()) + (await schedules.getWorkersCount());
      await waitFor(async () => (await registered()) === 0, 'the workers to leave', 5_000, 50);
      expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBeUndefined();
      // A second close is the same one, not a second release.
      await worker.close();
    } finally {
      await deletions.close();
      await schedules.close();
    }
  });

  it('starts no schedule worker and no metrics server when told not to', async () => {
    const a = appFor('app-worker-bare');
    const worker = await startWorker(a, {
      credentials: new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk),
      schedules: false,
    });
    const schedules = openQueue(a.connection, a.prefix, SCHEDULE_QUEUE_NAME);
    try {
      expect(worker.metricsPort).toBeUndefined();
      expect(await schedules.getWorkersCount()).toBe(0);
    } finally {
      await worker.close();
      await schedules.close();
    }
  });

  it('refuses a bad credential setting before it starts anything, naming the variable', async () => {
    const a = appFor('app-worker-creds', { CLOUD_SDK_CREDENTIALS_SOURCE: 'file' });
    await expect(startWorker(a)).rejects.toThrow(/CLOUD_SDK_CREDENTIALS_FILE/);
    const deletions = openQueue(a.connection, a.prefix);
    expect(await deletions.getWorkersCount()).toBe(0);
    await deletions.close();
  });
});

describe('startApi', () => {
  it('listens on the port it reports, and close() frees it', async () => {
    const a = appFor('app-api', { CLEANUP_API_TOKEN: 'app-services-token-0123456789abcdef' });
    const api = await startApi(a, { port: 0 });
    try {
      expect(api).toMatchObject({ host: '127.0.0.1', auth: 'token', bullBoard: 'off', purges: false });
      expect(api.port).toBeGreaterThan(0);
      expect(await answers(`http://127.0.0.1:${api.port}/healthz`)).toBe(200);
    } finally {
      await api.close();
    }
    expect(await answers(`http://127.0.0.1:${api.port}/healthz`)).toBeUndefined();
  });

  it('refuses to run without a token on a host other machines reach', async () => {
    const a = appFor('app-api-open');
    await expect(startApi(a, { host: '0.0.0.0', port: 0, insecureNoAuth: true })).rejects.toThrow(/loopback/);
  });
});
