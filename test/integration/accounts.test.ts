/**
 * Many accounts against the emulator: one queue and one breaker per account, real signatures, real
 * Redis under a unique prefix. Account `a` signs with keys from the environment; account `b` reads a
 * credentials file that starts with a wrong secret key.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { resolveWorkerSettings } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { parseAccountsFile } from '../../src/config/accounts-file.js';
import { createAccountRegistry, type AccountRegistry } from '../../src/accounts/account-registry.js';
import { createAccountWorkers, type AccountWorkers } from '../../src/queue/account-queues.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { createDeadLetters, type DeadLetters } from '../../src/queue/dead-letters.js';
import { circuitKey, readCircuitState } from '../../src/queue/circuit-breaker.js';
import { createApi } from '../../src/api/create-api.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { isCleanupError } from '../../src/errors.js';
import { FAST_POLICY } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

const A = {
  ak: 'ACCOUNTAAK0000000001',
  sk: 'account-a-secret-key',
  project: 'aaaa0000000000000000000000000001',
};
const B = {
  ak: 'ACCOUNTBAK0000000002',
  sk: 'account-b-secret-key',
  project: 'bbbb0000000000000000000000000002',
};
const TASKS = 40;

interface Setup {
  prefix: string;
  dir: string;
  emulator: Emulator;
  connection: RedisClient;
  registry: AccountRegistry;
  producer: Producer;
  workers?: AccountWorkers;
  deadLetters: DeadLetters;
  logs: ReturnType<typeof captureLogger>;
  instances: { a: string; b: string };
  credentialsFile: string;
}

let s: Setup | undefined;
afterEach(async () => {
  if (s === undefined) return;
  await s.workers?.close();
  await s.producer.close();
  await s.deadLetters.close();
  await s.registry.close();
  s.connection.disconnect();
  await s.emulator.close();
  await deletePrefix(s.prefix);
  rmSync(s.dir, { recursive: true, force: true });
  s = undefined;
});

/** Replaces the credentials file in one step, as a secret rotation does. */
function writeCredentials(path: string, sk: string): void {
  writeFileSync(`${path}.tmp`, `[default]\nak = ${B.ak}\nsk = ${sk}\n`);
  renameSync(`${path}.tmp`, path);
}

async function setUp(label: string, bSecret: string): Promise<Setup> {
  const prefix = uniquePrefix(label);
  const dir = mkdtempSync(join(tmpdir(), 'accounts-'));
  const credentialsFile = join(dir, 'b.ini');
  writeCredentials(credentialsFile, bSecret);
  const emulator = await startEmulator({
    rateLimitPerSecond: 0,
    credentials: [
      { ak: A.ak, sk: A.sk, projects: [A.project] },
      { ak: B.ak, sk: B.sk, projects: [B.project] },
    ],
  });
  const env = { ACC_A_AK: A.ak, ACC_A_SK: A.sk };
  const config = loadConfig({ REDIS_URL, CLEANUP_PREFIX: prefix, DCS_ENDPOINT: emulator.url });
  const accountsYaml = [
    'default_account: a',
    'accounts:',
    '  a:',
    '    credentials: { source: env, ak_env: ACC_A_AK, sk_env: ACC_A_SK }',
    `    projects: ["${A.project}"]`,
    '  b:',
    `    credentials: { source: file, path: ${JSON.stringify(credentialsFile)}, recheck_ms: 100 }`,
    `    projects: ["${B.project}"]`,
  ].join('\n');
  const settings = parseAccountsFile(accountsYaml, join(dir, 'accounts.yaml'), config, env);
  const logs = captureLogger('info');
  const registry = createAccountRegistry(config, { settings, logger: logs.logger });
  const connection = createRedisConnection(REDIS_URL, 'worker');
  const producer = createProducer({ connection, prefix, attempts: FAST_POLICY.attempts, accounts: registry });
  const deadLetters = createDeadLetters({ connection, prefix });
  const instances = {
    a: emulator.addInstance(A.project).instance_id,
    b: emulator.addInstance(B.project).instance_id,
  };
  return {
    prefix,
    dir,
    emulator,
    connection,
    registry,
    producer,
    deadLetters,
    logs,
    instances,
    credentialsFile,
  };
}

async function enqueueBoth(t: Setup): Promise<void> {
  const seeded = (instanceId: string) =>
    t.emulator.addTasks(
      instanceId,
      Array.from({ length: TASKS }, () => ({ status: 'SUCCESS' as const })),
    );
  const tasks = [
    ...seeded(t.instances.a).map((task) => ({
      project_id: A.project,
      instance_id: t.instances.a,
      task_id: task.id,
    })),
    ...seeded(t.instances.b).map((task) => ({
      project_id: B.project,
      instance_id: t.instances.b,
      task_id: task.id,
    })),
  ];
  // Interleaved, as a real producer mixing accounts would send them; no task names its account.
  tasks.sort((x, y) => x.task_id.localeCompare(y.task_id));
  const summary = await t.producer.enqueueMany(tasks);
  expect(summary.enqueued).toBe(2 * TASKS);
}

async function startWorkers(t: Setup): Promise<AccountWorkers> {
  t.workers = await createAccountWorkers({
    connection: t.connection,
    prefix: t.prefix,
    registry: t.registry,
    logger: t.logs.logger,
    ...testPoolSettings(400),
  });
  return t.workers;
}

const remaining = (t: Setup, instanceId: string): number => t.emulator.remainingTasks({ instanceId }).length;

describe('many accounts: one queue and one breaker per account', () => {
  it('routes each task to its account queue by project; a job names only a non-default account', async () => {
    s = await setUp('acc-route', B.sk);
    await enqueueBoth(s);
    const a = new Queue('dcs-cleanup', { connection: s.connection, prefix: s.prefix });
    const b = new Queue('dcs-cleanup@b', { connection: s.connection, prefix: s.prefix });
    try {
      expect(await a.getJobCountByTypes('wait')).toBe(TASKS);
      expect(await b.getJobCountByTypes('wait')).toBe(TASKS);
      const [jobA] = await a.getJobs(['wait'], 0, 0);
      const [jobB] = await b.getJobs(['wait'], 0, 0);
      expect(jobA!.data).toMatchObject({ schema_version: 2, project_id: A.project });
      expect(jobA!.data.account).toBeUndefined();
      expect(jobB!.data).toMatchObject({ schema_version: 2, project_id: B.project, account: 'b' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a wrong key for b pauses b only: a drains, b sends at most 5 failed requests, a fixed file resumes b', async () => {
    s = await setUp('acc-drain', 'a-wrong-secret-key');
    await enqueueBoth(s);
    const workers = await startWorkers(s);
    const t = s;

    await waitFor(() => remaining(t, t.instances.a) === 0, "account a's tasks deleted");
    await waitFor(
      async () => (await readCircuitState(t.connection, t.prefix, 'dcs-cleanup@b')).open,
      "b's breaker open",
    );
    expect(remaining(t, t.instances.b)).toBe(TASKS);
    expect((await readCircuitState(t.connection, t.prefix, 'dcs-cleanup')).open).toBe(false);
    expect(await workers.pools.get('a')!.queue.isPaused()).toBe(false);
    expect(await workers.pools.get('b')!.queue.isPaused()).toBe(true);
    expect(t.emulator.stats().authFailuresByAccessKey[A.ak]).toBeUndefined();

    // The fix is a new file: no restart, the probe reads it and the breaker closes.
    writeCredentials(t.credentialsFile, B.sk);
    await waitFor(() => remaining(t, t.instances.b) === 0, "account b's tasks deleted after the fix");
    expect(await workers.waitUntilIdle(50)).toBe('idle');

    const stats = t.emulator.stats();
    expect(stats.authFailuresByAccessKey[B.ak]).toBeGreaterThanOrEqual(1);
    expect(stats.authFailuresByAccessKey[B.ak]).toBeLessThanOrEqual(5);
    expect(stats.lockedAccessKeys).toEqual([]);
    expect(await t.deadLetters.count()).toBe(0);
    const counts = async (name: string) => workers.pools.get(name)!.queue.getJobCounts('completed', 'failed');
    expect(await counts('a')).toEqual({ completed: TASKS, failed: 0 });
    expect(await counts('b')).toEqual({ completed: TASKS, failed: 0 });
    const fatal = t.logs.records.filter((r) => r.level >= 60);
    expect(fatal.map((r) => r.account)).toEqual(['b']);
    expect(t.logs.text()).not.toContain('a-wrong-secret-key');
    expect(t.logs.text()).not.toContain(B.sk);
  });

  it("a job naming an unknown account, or another queue's account, is dead-lettered invalid_job with the reason", async () => {
    s = await setUp('acc-unknown', B.sk);
    const [task] = s.emulator.addTasks(s.instances.a, [{ status: 'SUCCESS' }]);
    const base = { schema_version: 2, project_id: A.project, instance_id: s.instances.a };
    const a = new Queue('dcs-cleanup', { connection: s.connection, prefix: s.prefix });
    try {
      await a.add(
        'delete-task',
        { ...base, task_id: task!.id, account: 'ghost' },
        { jobId: 'del_x_y_ghost' },
      );
      await a.add(
        'delete-task',
        { ...base, task_id: 'other-task', account: 'b' },
        { jobId: 'del_x_y_other' },
      );
      const workers = await startWorkers(s);
      expect(await workers.waitUntilIdle(50)).toBe('idle');
    } finally {
      await a.close();
    }
    const letters = await s.deadLetters.list();
    const byJob = new Map(letters.map((l) => [l.job_id, l]));
    expect(byJob.get('del_x_y_ghost')).toMatchObject({ reason: 'invalid_job' });
    expect(byJob.get('del_x_y_ghost')!.error_msg).toMatch(
      /account: ghost is not one of the configured accounts \(a, b\)/,
    );
    expect(byJob.get('del_x_y_other')!.error_msg).toMatch(/served by queue dcs-cleanup@b, not dcs-cleanup/);
    // Nothing was sent for them.
    expect(remaining(s, s.instances.a)).toBe(1);
    expect(s.emulator.stats().requests.total).toBe(0);

    // A replay sends the record back to the queue of the account it names (b), where it is valid.
    await s.workers!.close();
    s.workers = undefined;
    const replayed = await s.deadLetters.replay([byJob.get('del_x_y_other')!.id], s.producer);
    expect(replayed.skipped).toEqual([]);
    expect(replayed.replayed).toHaveLength(1);
    const other = `del_${A.project}_${s.instances.a}_other-task`;
    const b = new Queue('dcs-cleanup@b', { connection: s.connection, prefix: s.prefix });
    try {
      expect((await b.getJob(other))?.data).toMatchObject({ account: 'b', source: 'dlq-replay' });
    } finally {
      await b.close();
    }

    // A producer refuses an unknown account before anything is enqueued, naming the field.
    const err = await s.producer
      .enqueueMany([{ project_id: A.project, instance_id: s.instances.a, task_id: 't1', account: 'ghost' }])
      .catch((e: unknown) => e);
    expect(isCleanupError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toMatch(
      /tasks\[0\]\.account: ghost is not one of the configured accounts/,
    );
  });

  it('/readyz stays ready while one account runs, naming each state; 503 only when every account is paused', async () => {
    s = await setUp('acc-ready', B.sk);
    const api = createApi({
      connection: s.connection,
      prefix: s.prefix,
      producer: s.producer,
      deadLetters: s.deadLetters,
      logger: s.logs.logger,
      auth: { insecureNoAuth: true },
      metrics: createMetrics({ processMetrics: false }),
      accounts: s.registry.all(),
    });
    const ready = async () => api.inject({ method: 'GET', url: '/readyz' });
    await s.connection.ping();
    try {
      expect((await ready()).json()).toEqual({ status: 'ready', accounts: { a: 'running', b: 'running' } });
      await s.connection.hset(circuitKey(s.prefix, 'dcs-cleanup@b'), { action: 'auth_failed' });
      const oneDown = await ready();
      expect(oneDown.statusCode).toBe(200);
      expect(oneDown.json()).toEqual({ status: 'ready', accounts: { a: 'running', b: 'paused' } });
      await s.connection.hset(circuitKey(s.prefix), { action: 'forbidden' });
      const allDown = await ready();
      expect(allDown.statusCode).toBe(503);
      expect(allDown.json().error.message).toMatch(/a: forbidden, b: auth_failed/);
    } finally {
      await api.close();
    }
  });

  it('POST /v1/deletions routes items by account or project; GET finds a job in its account queue', async () => {
    s = await setUp('acc-api', B.sk);
    const api = createApi({
      connection: s.connection,
      prefix: s.prefix,
      producer: s.producer,
      deadLetters: s.deadLetters,
      logger: s.logs.logger,
      auth: { insecureNoAuth: true },
      metrics: createMetrics({ processMetrics: false }),
      accounts: s.registry.all(),
    });
    await s.connection.ping();
    try {
      const post = (tasks: object[]) =>
        api.inject({ method: 'POST', url: '/v1/deletions', payload: { tasks } });
      const bad = await post([
        { project_id: A.project, instance_id: 'i-1', task_id: 't-0', account: 'ghost' },
      ]);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(
        /tasks\[0\]\.account: ghost is not one of the configured accounts/,
      );
      const ok = await post([
        { project_id: B.project, instance_id: 'i-1', task_id: 't-1' },
        { project_id: A.project, instance_id: 'i-1', task_id: 't-2', account: 'b' },
        { project_id: A.project, instance_id: 'i-1', task_id: 't-3' },
      ]);
      expect(ok.statusCode).toBe(202);
      expect(ok.json()).toMatchObject({ enqueued: 3, duplicates: 0 });
      const again = await post([{ project_id: B.project, instance_id: 'i-1', task_id: 't-1' }]);
      expect(again.json().jobs).toEqual([expect.objectContaining({ duplicate: true, state: 'waiting' })]);
      const get = async (project: string, task: string) =>
        (await api.inject({ method: 'GET', url: `/v1/deletions/del_${project}_i-1_${task}` })).json();
      expect((await get(B.project, 't-1')).task).toEqual({
        project_id: B.project,
        instance_id: 'i-1',
        task_id: 't-1',
        account: 'b',
        // Three tasks in one request: a batch, so bulk.
        priority: 'bulk',
      });
      expect((await get(A.project, 't-2')).task.account).toBe('b');
      expect((await get(A.project, 't-3')).task).not.toHaveProperty('account');
    } finally {
      await api.close();
    }
  });
});

/** The worker settings of the configuration's defaults, with a small pool and a fast policy. */
function testPoolSettings(probeIntervalMs: number) {
  const {
    metricsPort: _m,
    schedules: _s,
    trusted: _t,
    ...settings
  } = resolveWorkerSettings(loadConfig({}), {
    concurrency: 8,
    rateLimitPerSecond: 0,
    policy: FAST_POLICY,
    probeIntervalMs,
    shutdownTimeoutMs: 2_000,
  });
  return settings;
}
