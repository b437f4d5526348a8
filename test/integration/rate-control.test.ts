/**
 * Rate control and the urgent lane against the emulator's gateway throttling (a sliding window per
 * AK and API that the workers are not told): the urgent lane, the automatic rate, and one limiter
 * shared by two worker processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Job } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { runCli, startCli, type CliProcess } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { createAppApi } from '../support/app-api.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import { getQueueStatus } from '../../src/queue/status.js';
import { readRateState } from '../../src/queue/rate-control/rate-script.js';

let h: Harness | undefined;
let apiApp: App | undefined;
let api: FastifyInstance | undefined;
const children: CliProcess[] = [];
const TOKEN = 'rate-test-token-0123456789abcdef';
const headers = { authorization: `Bearer ${TOKEN}` };
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
    await c.exited;
  }
  await api?.close();
  await apiApp?.close();
  await h?.close();
  h = api = apiApp = undefined;
});

function seed(
  harness: Harness,
  count: number,
): { project_id: string; instance_id: string; task_id: string }[] {
  return harness.emulator
    .addTasks(
      harness.instanceId,
      Array.from({ length: count }, () => ({ status: 'SUCCESS' as const })),
    )
    .map((t) => ({ project_id: harness.projectId, instance_id: harness.instanceId, task_id: t.id }));
}

function workerEnv(harness: Harness, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL,
    CLEANUP_PREFIX: harness.prefix,
    CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
    CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
    DCS_ENDPOINT: harness.emulator.url,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

describe('the urgent lane', () => {
  it('deletes a single deletion sent through the API while thousands of bulk jobs wait at a low rate', async () => {
    h = await createHarness('rate-urgent', { seed: { instances: 1, tasksPerInstance: 0 } });
    const harness = h;
    const bulk = seed(harness, 3_000);
    await harness.producer.enqueueMany(bulk, { source: 'purge' });
    const worker = await harness.startWorker({ concurrency: 8, rateLimitPerSecond: 20 });
    // Every slot is busy waiting for a send time before the urgent deletion arrives.
    await waitFor(() => harness.emulator.stats().deletions.count >= 10, 'bulk deletions under way');

    const config = configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: harness.prefix });
    apiApp = createApp(config, { role: 'api', logger: captureLogger('warn').logger });
    await new Promise((resolve) => apiApp!.connection.once('ready', resolve));
    api = createAppApi(apiApp, { logger: captureLogger('warn').logger, auth: { token: TOKEN } });
    const [urgent] = seed(harness, 1);
    const res = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers,
      payload: { tasks: [urgent] },
    });
    expect(res.statusCode).toBe(202);
    const jobId = res.json<{ jobs: { job_id: string }[] }>().jobs[0]!.job_id;
    const job = await waitFor(async () => {
      const j = await Job.fromId(worker.queue, jobId);
      return j?.finishedOn ? j : undefined;
    }, 'the urgent job done');
    expect(job.data).toMatchObject({ priority: 'urgent', source: 'api' });
    const shown = await api.inject({ method: 'GET', url: `/v1/deletions/${jobId}`, headers });
    expect(shown.json()).toMatchObject({ task: { priority: 'urgent' }, result: { outcome: 'deleted' } });
    expect(job.returnvalue).toMatchObject({ outcome: 'deleted' });
    expect(harness.emulator.getTask(urgent!.task_id)).toBeUndefined();
    // Done while nearly every bulk job still waits: it went ahead of them, not in turn.
    const counts = await worker.queue.getJobCounts('wait', 'completed');
    expect(counts.wait).toBeGreaterThan(2_500);
    // A batch through the API is bulk unless an item says otherwise.
    const [a, b] = seed(harness, 2);
    const batch = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers,
      payload: { tasks: [a, { ...b, priority: 'urgent' }] },
    });
    const [ja, jb] = batch.json<{ jobs: { job_id: string }[] }>().jobs;
    const [jobA, jobB] = await Promise.all([
      Job.fromId(worker.queue, ja!.job_id),
      Job.fromId(worker.queue, jb!.job_id),
    ]);
    expect(jobA?.data.priority).toBeUndefined();
    expect(jobA?.opts.lifo).toBeFalsy();
    expect(jobB?.data.priority).toBe('urgent');
    const refused = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers,
      payload: { tasks: [{ ...a, priority: 'now' }] },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('priority');
  });
});

describe('enqueue --priority', () => {
  it('puts urgent jobs at the head of the wait list, bulk ones in turn, and refuses another lane', async () => {
    h = await createHarness('rate-enqueue', { seed: { instances: 1, tasksPerInstance: 0 } });
    const harness = h;
    const [a, b, c] = seed(harness, 3);
    const env = workerEnv(harness);
    const flags = (t: typeof a, lane: string) => [
      'enqueue',
      '--project',
      t!.project_id,
      '--instance',
      t!.instance_id,
      '--task',
      t!.task_id,
      '--priority',
      lane,
    ];
    expect((await runCli(flags(a, 'bulk'), env)).code).toBe(0);
    expect((await runCli(flags(b, 'urgent'), env)).code).toBe(0);
    expect((await runCli(flags(c, 'bulk'), env)).code).toBe(0);
    const refused = await runCli(flags(c, 'now'), env);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('--priority');
    // getWaiting lists the next job to run first: the urgent one, then the bulk ones in order.
    const waiting = await harness.queue.getWaiting();
    const order = waiting.map((j) => j.data.task_id as string);
    expect(order).toEqual([b!.task_id, a!.task_id, c!.task_id]);
    expect(waiting.find((j) => j.data.task_id === b!.task_id)?.data.priority).toBe('urgent');
  });
});

describe('the automatic rate', () => {
  it('finds a limit it is not told: converges under it with few 429s, every task deleted', async () => {
    h = await createHarness('rate-auto', {
      seed: { instances: 1, tasksPerInstance: 0 },
      rateLimit: { limit: 60, per: 'second' },
    });
    const harness = h;
    await harness.producer.enqueueMany(seed(harness, 700));
    const worker = await harness.startWorker({
      concurrency: 16,
      rateLimitPerSecond: 'auto',
      autoRate: { start: 20 },
    });
    await waitFor(() => harness.emulator.remainingTasks().length === 0, 'every task deleted', 60_000, 100);
    const stats = harness.emulator.stats();
    const deletes = stats.requests.byRoute.delete ?? {};
    const sent = Object.values(deletes).reduce((sum, n) => sum + n, 0);
    // It did meet the limit (the only way to find it), and backed off each time.
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.throttled / sent).toBeLessThan(0.05);
    const state = await readRateState(harness.connection, harness.prefix, 'default');
    expect(state).toMatchObject({ mode: 'auto' });
    expect(state!.cuts).toBeGreaterThan(0);
    expect(state!.per_second).toBeGreaterThan(30);
    expect(state!.per_second).toBeLessThan(80);
    const status = await getQueueStatus(worker.queue, worker.deadLetters, harness.connection, harness.prefix);
    expect(status.rate.default).toEqual(state);
    const scrape = await harness.metrics.registry.getSingleMetricAsString(
      'dcs_cleanup_rate_limit_per_second',
    );
    expect(scrape).toMatch(/dcs_cleanup_rate_limit_per_second\{account="default"\} \d/);
    expect(await worker.queue.getJobCounts('completed', 'failed')).toEqual({ completed: 700, failed: 0 });
  });
});

describe('one limiter for every worker process', () => {
  it('two worker processes together keep to the fixed rate: no 429 under a limit just above it', async () => {
    h = await createHarness('rate-shared', {
      seed: { instances: 1, tasksPerInstance: 0 },
      rateLimit: { limit: 44, per: 'second' },
    });
    const harness = h;
    await harness.producer.enqueueMany(seed(harness, 240));
    const env = workerEnv(harness);
    const args = ['worker', '--concurrency', '16', '--rate-limit', '40'];
    const started = Date.now();
    children.push(startCli(args, env), startCli(args, env));
    await waitFor(() => harness.emulator.remainingTasks().length === 0, 'every task deleted', 60_000, 100);
    const elapsedMs = Date.now() - started;
    // Either process alone at 40/s would keep under 44/s; both at 40/s each would not. Shared: no 429.
    expect(harness.emulator.stats().throttled).toBe(0);
    // 240 sends at 40/s take at least (240 - 1) / 40 s, whatever the start-up time.
    expect(elapsedMs).toBeGreaterThanOrEqual(5_500);
    const state = await readRateState(harness.connection, harness.prefix, 'default');
    expect(state).toMatchObject({ mode: 'fixed', per_second: 40 });
    for (const c of children) expect(c.stderr()).not.toContain('rror');
  });
});
