/**
 * The eviction-policy check (issue 11): against a private redis-server that may evict keys
 * (`allkeys-lru`), the worker and the API refuse to start, naming the policy and the override;
 * REDIS_ALLOW_EVICTION=true lets them run. Where CONFIG is renamed away (as managed Redis
 * services do), the policy is read from INFO.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { runCli, startCli } from '../support/cli-process.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { checkEvictionPolicy, readEvictionPolicies } from '../../src/queue/eviction-check.js';
import { captureLogger } from '../support/log-capture.js';
import { isCleanupError } from '../../src/errors.js';
import { freePort } from '../../src/demo/private-redis.js';
import { waitFor } from '../support/wait-for.js';

const available = hasRedisServer();
if (!available) console.warn('redis-eviction.test.ts skipped: no redis-server on the PATH (CI installs it)');

describe.skipIf(!available)('Redis eviction policy', () => {
  let lru: PrivateRedis;
  let noConfig: PrivateRedis;
  let noConfigLru: PrivateRedis;

  beforeAll(async () => {
    [lru, noConfig, noConfigLru] = await Promise.all([
      startPrivateRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] }),
      startPrivateRedis({ extraArgs: ['--rename-command', 'CONFIG', ''] }),
      startPrivateRedis({
        extraArgs: ['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', ''],
      }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([lru?.stop(), noConfig?.stop(), noConfigLru?.stop()]);
  });

  const env = (redis: PrivateRedis, extra: Record<string, string> = {}): Record<string, string> => ({
    REDIS_URL: redis.url,
    CLEANUP_PREFIX: 'dcs-eviction-test',
    CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
    CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
    DCS_ENDPOINT: 'http://127.0.0.1:9',
    ...extra,
  });

  it('stops the worker on allkeys-lru, naming the policy and the override', async () => {
    const run = await runCli(['worker', '--exit-when-idle'], env(lru));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/maxmemory-policy must be noeviction, but .* has allkeys-lru/);
    expect(run.stderr).toContain('REDIS_ALLOW_EVICTION=true');
    expect(run.stdout).not.toContain('worker started');
  });

  it('stops the API on allkeys-lru before it listens', async () => {
    const port = await freePort();
    const run = await runCli(['serve', '--port', String(port), '--insecure-no-auth'], env(lru));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/has allkeys-lru.*REDIS_ALLOW_EVICTION=true/);
    expect(run.stdout).not.toContain('api listening');
  });

  it('runs the worker and the API with REDIS_ALLOW_EVICTION=true, with a warning', async () => {
    const worker = await runCli(['worker', '--exit-when-idle'], env(lru, { REDIS_ALLOW_EVICTION: 'true' }));
    expect(worker.code).toBe(0);
    expect(worker.stdout).toMatch(/"level":40.*Redis may evict keys/);
    const port = await freePort();
    const api = startCli(
      ['serve', '--port', String(port), '--insecure-no-auth'],
      env(lru, { REDIS_ALLOW_EVICTION: 'true' }),
    );
    await waitFor(() => api.stdout().includes('api listening'), 'the API to listen', 30_000, 50);
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  it('reads the policy from INFO where CONFIG is renamed away', async () => {
    const logs = captureLogger('info');
    const fine = createRedisConnection(noConfig.url, 'producer');
    const evicting = createRedisConnection(noConfigLru.url, 'producer');
    try {
      await expect(fine.call('CONFIG', 'GET', 'maxmemory-policy')).rejects.toThrow(/unknown command/);
      const policies = await checkEvictionPolicy(fine, { allowEviction: false, logger: logs.logger });
      expect(policies).toEqual([expect.objectContaining({ policy: 'noeviction', source: 'info' })]);
      expect(await readEvictionPolicies(evicting)).toEqual([
        expect.objectContaining({ policy: 'volatile-lru', source: 'info' }),
      ]);
      const err = await checkEvictionPolicy(evicting, { allowEviction: false, logger: logs.logger }).catch(
        (e: unknown) => e,
      );
      expect(isCleanupError(err, 'REDIS_EVICTION')).toBe(true);
    } finally {
      fine.disconnect();
      evicting.disconnect();
    }
  });
});
