import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readFile } from 'node:fs/promises';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import { BODY_LIMIT_BYTES } from '../../src/api/create-api.js';
import { MAX_TASKS_PER_REQUEST } from '../../src/api/deletion-routes.js';
import { formatApiDocument } from '../../src/api/openapi-routes.js';
import { circuitKey } from '../../src/queue/circuit-breaker.js';
import { buildJobId } from '../../src/queue/job-contract.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { startMetricsServer } from '../../src/observability/metrics-server.js';
import { createAppApi } from '../support/app-api.js';

const TOKEN = 'test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let h: Harness;
let apiApp: App;
let api: FastifyInstance;
let baseUrl: string;
let dcs: DcsClient;
const logs = captureLogger('debug');

beforeAll(async () => {
  h = await createHarness('api', { seed: { instances: 1, tasksPerInstance: 0 } });
  dcs = createDcsClient({ endpoint: h.emulator.url, credentials: h.credentials });
  const config = configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: h.prefix });
  apiApp = createApp(config, { role: 'api', logger: logs.logger });
  await new Promise((resolve) => apiApp.connection.once('ready', resolve));
  api = createAppApi(apiApp, {
    logger: logs.logger,
    auth: { token: TOKEN },
    purges: { lister: () => dcs, defaultProjectId: h.projectId },
    bullBoard: { writable: false },
  });
  // One real listening socket; everything else goes through inject().
  baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await api?.close();
  await apiApp?.close();
  await dcs?.close();
  await h?.close();
});

/** Tasks the emulator knows, as request items. */
function seedTasks(n: number): { project_id: string; instance_id: string; task_id: string }[] {
  return h.emulator
    .addTasks(
      h.instanceId,
      Array.from({ length: n }, () => ({ status: 'SUCCESS' })),
    )
    .map((t) => ({ project_id: h.projectId, instance_id: h.instanceId, task_id: t.id }));
}

function fakeTasks(n: number, tag: string): { project_id: string; instance_id: string; task_id: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    project_id: 'p1',
    instance_id: `i-${tag}`,
    task_id: `t${i}`,
  }));
}

const post = (url: string, payload: unknown, headers: Record<string, string> = AUTH) =>
  api.inject({ method: 'POST', url, headers, payload: payload as object });
const get = (url: string, headers: Record<string, string> = AUTH) =>
  api.inject({ method: 'GET', url, headers });

/** Every error answer has the one shape, and nothing about our internals. */
function expectErrorBody(res: LightMyRequestResponse, status: number, code: string): Record<string, any> {
  expect(res.statusCode).toBe(status);
  const body = res.json();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(res.body).not.toMatch(/stack|node_modules|\/src\/|\.ts:\d|\.js:\d/);
  return body.error;
}

async function waitForJob(jobId: string, state: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const body = (await get(`/v1/deletions/${jobId}`)).json();
    return body.state === state ? body : undefined;
  }, `job ${jobId} to be ${state}`);
}

describe('authentication', () => {
  // No worker runs yet: the made-up tasks these tests enqueue must not reach the one started later.
  afterEach(() => h.queue.drain(true));

  it('answers 401 without a token, with a wrong one, and 202 with the right one', async () => {
    const tasks = fakeTasks(1, 'auth');
    const missing = await post('/v1/deletions', { tasks }, {});
    expect(expectErrorBody(missing, 401, 'UNAUTHORIZED').message).toMatch(/missing/);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const wrong = await post('/v1/deletions', { tasks }, { authorization: `Bearer ${TOKEN}x` });
    expectErrorBody(wrong, 401, 'UNAUTHORIZED');
    const basic = await post(
      '/v1/deletions',
      { tasks },
      { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
    );
    expectErrorBody(basic, 401, 'UNAUTHORIZED');
    expect(await h.queue.getJob(buildJobId(tasks[0]!))).toBeUndefined();
    expect((await post('/v1/deletions', { tasks })).statusCode).toBe(202);
  });

  it('guards every /v1 route, over a real socket too', async () => {
    for (const url of ['/v1/deletions/del_p_i_x', '/v1/dead-letters', '/v1/dead-letters/dl-x']) {
      expectErrorBody(await get(url, {}), 401, 'UNAUTHORIZED');
    }
    expectErrorBody(await post('/v1/dead-letters/dl-x/replay', {}, {}), 401, 'UNAUTHORIZED');
    expectErrorBody(await post('/v1/purges', {}, {}), 401, 'UNAUTHORIZED');
    const denied = await request(`${baseUrl}/v1/dead-letters`, { headers: { authorization: 'Bearer nope' } });
    expect(denied.statusCode).toBe(401);
    expect(((await denied.body.json()) as any).error.code).toBe('UNAUTHORIZED');
    const allowed = await request(`${baseUrl}/v1/dead-letters`, { headers: AUTH });
    expect(allowed.statusCode).toBe(200);
    await allowed.body.dump();
  });

  it('puts Bull Board behind the same token, Bearer or Basic (for browsers)', async () => {
    const missing = await get('/admin/queues', {});
    expectErrorBody(missing, 401, 'UNAUTHORIZED');
    expect(missing.headers['www-authenticate']).toMatch(/^Basic realm="dcs-cleanup"/);
    expectErrorBody(
      await get('/admin/queues/api/queues', { authorization: 'Bearer wrong-token' }),
      401,
      'UNAUTHORIZED',
    );
    const page = await get('/admin/queues', AUTH);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>dcs-cleanup</title>');
    // No framing (clickjacking), no sniffing, nothing from another origin: on pages, data and refusals.
    const script = /static\/js\/[^"]+\.js/.exec(page.body)![0];
    for (const res of [page, missing, await get(`/admin/queues/${script}`, AUTH)]) {
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    }
    const basic = { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` };
    const queues = await get('/admin/queues/api/queues', basic);
    expect(queues.statusCode).toBe(200);
    const names = (queues.json().queues as { name: string; readOnlyMode: boolean }[]).map((q) => [
      q.name,
      q.readOnlyMode,
    ]);
    expect(names).toEqual([
      ['dcs-cleanup', true],
      ['dcs-cleanup-dead', true],
    ]);
  });

  it('logs who asked: the peer address and the token label on every /v1 record, refusals at warn', async () => {
    const seen = logs.records.length;
    await get('/v1/dead-letters', AUTH);
    await get('/v1/dead-letters', {});
    await get('/admin/queues', {});
    const records = logs.records.slice(seen).filter((r) => r.msg === 'api request');
    expect(records).toEqual([
      expect.objectContaining({
        level: 30,
        status: 200,
        remote_address: '127.0.0.1',
        token_label: 'default',
      }),
      expect.objectContaining({ level: 40, status: 401, remote_address: '127.0.0.1', token_label: null }),
      expect.objectContaining({ level: 40, status: 401, route: expect.stringMatching(/^\/admin\/queues/) }),
    ]);
  });

  it('serves no Bull Board unless asked for', async () => {
    const bare = createAppApi(apiApp, {
      logger: logs.logger,
      auth: { token: TOKEN },
    });
    expectErrorBody(
      await bare.inject({ method: 'GET', url: '/admin/queues', headers: AUTH }),
      404,
      'NOT_FOUND',
    );
    await bare.close();
  });

  it('never writes the token to the log', () => {
    expect(logs.text()).toContain('api request');
    expect(logs.text()).not.toContain(TOKEN);
  });
});

describe('POST /v1/deletions', () => {
  afterEach(() => h.queue.drain(true));

  it('answers 400 listing every bad field with its index, and enqueues nothing', async () => {
    const tasks: any[] = fakeTasks(5, 'invalid');
    tasks[3] = { project_id: 'p1', instance_id: 'i-invalid', task_id: 'bad id!' };
    tasks[4] = { project_id: 'p1', task_id: 't4', region: 'nowhere' };
    const res = await post('/v1/deletions', { tasks, reason: 'x'.repeat(201), extra: true });
    const error = expectErrorBody(res, 400, 'INVALID_INPUT');
    expect(error.fields).toEqual([
      { field: 'tasks[3].task_id', message: 'must be 1 to 64 letters, digits or "-"' },
      { field: 'tasks[4].instance_id', message: 'required' },
      { field: 'tasks[4].region', message: 'must look like cn-north-4, got "nowhere"' },
      { field: 'reason', message: expect.any(String) },
      { field: 'extra', message: 'unknown field' },
    ]);
    expect(await h.queue.getJob(buildJobId(tasks[0]))).toBeUndefined();
  });

  it('answers 400 for a body that is not an object, and for bad JSON', async () => {
    expect(expectErrorBody(await post('/v1/deletions', []), 400, 'INVALID_INPUT').fields).toEqual([
      { field: 'body', message: expect.any(String) },
    ]);
    const bad = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: '{"tasks": [',
    });
    expectErrorBody(bad, 400, 'INVALID_INPUT');
    const text = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { ...AUTH, 'content-type': 'text/csv' },
      payload: 'project_id,instance_id,task_id',
    });
    expectErrorBody(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it(`accepts ${MAX_TASKS_PER_REQUEST} tasks and answers 400 for one more, enqueueing nothing`, async () => {
    const over = fakeTasks(MAX_TASKS_PER_REQUEST + 1, 'limit');
    const error = expectErrorBody(await post('/v1/deletions', { tasks: over }), 400, 'INVALID_INPUT');
    expect(error.fields).toEqual([
      { field: 'tasks', message: `at most ${MAX_TASKS_PER_REQUEST} tasks per request: split the batch` },
    ]);
    expect(await h.queue.getJob(buildJobId(over[0]!))).toBeUndefined();
    const res = await post('/v1/deletions', { tasks: over.slice(0, MAX_TASKS_PER_REQUEST) });
    expect(res.statusCode).toBe(202);
    expect(res.json().enqueued).toBe(MAX_TASKS_PER_REQUEST);
  });

  it('answers 413 for a body over the limit, on a real socket', async () => {
    const body = JSON.stringify({
      tasks: fakeTasks(1, 'big'),
      reason: 'r',
      pad: 'x'.repeat(BODY_LIMIT_BYTES),
    });
    const res = await request(`${baseUrl}/v1/deletions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body,
    });
    expect(res.statusCode).toBe(413);
    const json = (await res.body.json()) as any;
    expect(json.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('reports duplicates, within a request and across requests, with their state', async () => {
    const tasks = fakeTasks(2, 'dup');
    const first = await post('/v1/deletions', { tasks: [tasks[0], tasks[0], tasks[1]], source: 'test' });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({
      enqueued: 2,
      duplicates: 1,
      jobs: [
        { job_id: buildJobId(tasks[0]!), task_id: 't0', duplicate: false, state: 'waiting' },
        { job_id: buildJobId(tasks[0]!), task_id: 't0', duplicate: true },
        { job_id: buildJobId(tasks[1]!), task_id: 't1', duplicate: false, state: 'waiting' },
      ],
    });
    const again = (await post('/v1/deletions', { tasks })).json();
    expect(again).toMatchObject({ enqueued: 0, duplicates: 2 });
    expect(
      again.jobs.every((j: any) => j.duplicate && ['waiting', 'active', 'completed'].includes(j.state)),
    ).toBe(true);
  });
});

describe('jobs through a real run against the emulator', () => {
  it('reports the state and outcome, moves rejected tasks to the dead letters, replays them, and counts it all in /metrics', async () => {
    const workerMetrics = await startMetricsServer(h.metrics.registry, 0, '127.0.0.1');
    const scrape = async (): Promise<string> => {
      const res = await request(`http://127.0.0.1:${workerMetrics.port}/metrics`);
      return res.body.text();
    };
    const deletedBefore = metricValue(
      await scrape(),
      'dcs_cleanup_deletions_total{outcome="deleted",account="default"}',
    );
    await h.startWorker();
    const tasks = seedTasks(5);
    h.emulator.scriptTask(tasks[4]!.task_id, [{ status: 400, errorCode: '111400070' }]);
    const res = await post('/v1/deletions', { tasks, reason: 'api test' });
    expect(res.statusCode).toBe(202);
    const [done] = await Promise.all(tasks.map((t) => waitForJob(buildJobId(t), 'completed')));
    expect(done).toMatchObject({
      state: 'completed',
      task: tasks[0],
      reason: 'api test',
      source: 'api',
      result: { outcome: 'deleted', http_status: 200, attempts: 1 },
    });
    expect(done!.result.request_id).toMatch(/^[0-9a-f]{32}$/);
    const rejected = (await get(`/v1/deletions/${buildJobId(tasks[4]!)}`)).json();
    expect(rejected.result).toMatchObject({
      outcome: 'dead_lettered',
      http_status: 400,
      error_code: '111400070',
    });

    const list = (await get('/v1/dead-letters?reason=rejected&limit=10')).json();
    const dl = list.dead_letters.find((d: any) => d.job_data.task_id === tasks[4]!.task_id);
    expect(dl).toMatchObject({
      reason: 'rejected',
      error_code: '111400070',
      id: rejected.result.dead_letter_id,
    });
    expect(list.total).toBeGreaterThanOrEqual(1);
    expect((await get(`/v1/dead-letters/${dl.id}`)).json().history).toHaveLength(1);
    expectErrorBody(await post('/v1/dead-letters/dl-none/replay', {}), 404, 'NOT_FOUND');

    const replay = await post(`/v1/dead-letters/${dl.id}/replay`, {});
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toEqual({ id: dl.id, job_id: buildJobId(tasks[4]!), duplicate: false });
    expectErrorBody(await get(`/v1/dead-letters/${dl.id}`), 404, 'NOT_FOUND');
    const replayed = await waitFor(async () => {
      const body = (await get(`/v1/deletions/${buildJobId(tasks[4]!)}`)).json();
      return body.result?.outcome === 'deleted' ? body : undefined;
    }, 'the replayed job to delete its task');
    expect(replayed.source).toBe('dlq-replay');
    expect(h.emulator.getTask(tasks[4]!.task_id)).toBeUndefined();

    const workerText = await scrape();
    // The worker's series carry the account of the queue that ran the job (`default` without a file).
    expect(metricValue(workerText, 'dcs_cleanup_deletions_total{outcome="deleted",account="default"}')).toBe(
      deletedBefore + 5,
    );
    expect(workerText).toMatch(
      /^dcs_cleanup_deletions_total\{outcome="dead_lettered",account="default"\} [1-9]/m,
    );
    expect(workerText).toMatch(
      /^dcs_cleanup_request_duration_seconds_count\{status="200",account="default"\} [1-9]/m,
    );
    await workerMetrics.close();

    const apiText = (await api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricValue(apiText, 'dcs_cleanup_queue_jobs{state="completed"}')).toBeGreaterThanOrEqual(5);
    expect(apiText).toMatch(/^dcs_cleanup_dead_letters \d+$/m);
    expect(apiText).toMatch(/^dcs_cleanup_circuit_open 0$/m);
    expect(apiText).toMatch(/^dcs_cleanup_api_enqueued_total\{result="enqueued"\} [1-9]/m);
    expect(apiText).toMatch(
      /^dcs_cleanup_api_request_duration_seconds_count\{method="POST",route="\/v1\/deletions",status_code="202"\} [1-9]/m,
    );
  });

  it('answers 404 for a job it does not know and 400 for an id that cannot be one', async () => {
    expectErrorBody(await get('/v1/deletions/del_p_i_none'), 404, 'NOT_FOUND');
    const error = expectErrorBody(await get('/v1/deletions/bad%20id'), 400, 'INVALID_INPUT');
    expect(error.fields).toEqual([{ field: 'job_id', message: expect.any(String) }]);
    expectErrorBody(await get(`/v1/deletions/${'x'.repeat(400)}`), 400, 'INVALID_INPUT');
    // BullMQ's own keys share the job keys' namespace: their names are not job ids, never a 500.
    for (const internal of ['meta', 'wait', 'events', 'id', 'stalled-check']) {
      expectErrorBody(await get(`/v1/deletions/${internal}`), 400, 'INVALID_INPUT');
      expectErrorBody(await get(`/v1/dead-letters/${internal}`), 400, 'INVALID_INPUT');
    }
    expectErrorBody(await get('/v1/deletions/del-p1-i1-none'), 404, 'NOT_FOUND');
    expectErrorBody(await get('/v1/dead-letters/dl-none'), 404, 'NOT_FOUND');
  });
});

describe('POST /v1/purges', () => {
  function seedInstance(): { instanceId: string; taskIds: string[] } {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    const done = h.emulator.addTasks(instance_id, [
      { status: 'SUCCESS' },
      { status: 'FAILED' },
      { status: 'SUCCESS' },
    ]);
    h.emulator.addTasks(instance_id, [{ status: 'EXECUTING' }]);
    return { instanceId: instance_id, taskIds: done.map((t) => t.id) };
  }

  it('answers the plan on a dry run (the default) and enqueues nothing', async () => {
    const { instanceId, taskIds } = seedInstance();
    const res = await post('/v1/purges', { instances: [instanceId] });
    expect(res.statusCode).toBe(200);
    const { dry_run, plan } = res.json();
    expect(dry_run).toBe(true);
    expect(plan).toMatchObject({
      version: 1,
      project_id: h.projectId,
      created_by: 'api',
      counts: { selected: 3, unfinished: 1 },
    });
    expect(plan.selected.map((t: any) => t.task_id).sort()).toEqual([...taskIds].sort());
    expect(
      await h.queue.getJob(
        buildJobId({ project_id: h.projectId, instance_id: instanceId, task_id: taskIds[0]! }),
      ),
    ).toBeUndefined();
  });

  it('answers 202 at once with a run id for a run, recorded in the ledger before any listing', async () => {
    const { instanceId } = seedInstance();
    const res = await post('/v1/purges', { instances: [instanceId], statuses: ['SUCCESS'], dry_run: false });
    expect(res.statusCode).toBe(202);
    const run = res.json();
    expect(run).toMatchObject({ dry_run: false, state: 'listing' });
    expect(run.run_id).toMatch(/^purge-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    // No schedule worker runs here: the run waits, recorded, for the worker processes to list it.
    const record = (await get(`/v1/runs/${run.run_id}`)).json();
    expect(record).toMatchObject({
      run_id: run.run_id,
      kind: 'api-purge',
      state: 'listing',
      started_by: 'api default',
    });
    expect(record.spec.scope).toMatchObject({ project_id: h.projectId, instances: [instanceId] });
  });

  it('lists every bad option, and answers 501 on a server without DCS credentials', async () => {
    const bad = await post('/v1/purges', {
      all_instances: true,
      instances: ['a'],
      older_than: 'soon',
      statuses: ['EXECUTING'],
    });
    const fields = expectErrorBody(bad, 400, 'INVALID_INPUT').fields.map((f: any) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['older_than', 'statuses[0]']));
    const noCredentials = createAppApi(apiApp, {
      logger: logs.logger,
      auth: { token: TOKEN },
      bullBoard: false,
    });
    try {
      const res = await noCredentials.inject({
        method: 'POST',
        url: '/v1/purges',
        headers: AUTH,
        payload: { all_instances: true },
      });
      expectErrorBody(res, 501, 'NOT_IMPLEMENTED');
    } finally {
      await noCredentials.close();
    }
  });
});

describe('health, readiness and the document', () => {
  it('is ready while Redis answers, and not while the circuit breaker holds the queue', async () => {
    expect((await get('/healthz', {})).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz', {})).json()).toEqual({ status: 'ready' });
    await h.connection.hset(circuitKey(h.prefix), { action: 'auth_failed', reason: 'test' });
    try {
      expect(expectErrorBody(await get('/readyz', {}), 503, 'QUEUE_PAUSED').message).toMatch(/auth_failed/);
    } finally {
      await h.connection.del(circuitKey(h.prefix));
    }
  });

  it('answers 404 in the error shape for an unknown route', async () => {
    expectErrorBody(await get('/v2/nothing'), 404, 'NOT_FOUND');
  });

  it('serves the checked-in OpenAPI document', async () => {
    const res = await get('/openapi.json', {});
    expect(res.statusCode).toBe(200);
    expect(`${JSON.stringify(res.json(), null, 2)}\n`).toBe(formatApiDocument());
    expect(await readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8')).toBe(
      formatApiDocument(),
    );
  });
});

describe('with Redis down', () => {
  let down: App;
  let downApi: FastifyInstance;

  beforeAll(() => {
    const config = configSchema.parse({ REDIS_URL: 'redis://127.0.0.1:1', CLEANUP_PREFIX: h.prefix });
    down = createApp(config, { role: 'api', logger: logs.logger });
    downApi = createAppApi(down, {
      logger: logs.logger,
      auth: { token: TOKEN },
    });
  });
  afterAll(async () => {
    await downApi.close();
    await down.close();
  });

  it('answers 503 REDIS_UNAVAILABLE quickly on every Redis route, and stays alive', async () => {
    const calls = [
      () => downApi.inject({ method: 'GET', url: '/readyz' }),
      () =>
        downApi.inject({
          method: 'POST',
          url: '/v1/deletions',
          headers: AUTH,
          payload: { tasks: fakeTasks(3, 'down') },
        }),
      () => downApi.inject({ method: 'GET', url: '/v1/deletions/del_p_i_x', headers: AUTH }),
      () => downApi.inject({ method: 'GET', url: '/v1/dead-letters', headers: AUTH }),
      () => downApi.inject({ method: 'POST', url: '/v1/dead-letters/dl-x/replay', headers: AUTH }),
    ];
    for (const call of calls) {
      const started = performance.now();
      const res = await call();
      expect(performance.now() - started).toBeLessThan(1_000);
      expectErrorBody(res, 503, 'REDIS_UNAVAILABLE');
    }
    expect((await downApi.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const metrics = await downApi.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('dcs_cleanup_api_request_duration_seconds');
  });
});

/** The value of one sample line (`name{labels} value`), 0 when absent. */
function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
