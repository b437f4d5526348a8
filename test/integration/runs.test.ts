/**
 * Runs end to end against the emulator and a real Redis: an API purge answered 202 at once and
 * carried out by the worker processes (schedule worker + deletion worker in this process) until its
 * record in the run ledger says `finished` with the counts the emulator saw; a cancel that removes
 * a run's waiting jobs; the verification pass finding a task DCS still lists after its deletion;
 * and the `runs` CLI as a real child process (from dist/: `npm run build` first).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { buildJobId } from '../../src/queue/job-contract.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createScheduleWorker, type ScheduleWorker } from '../../src/queue/schedule-worker.js';
import { createSchedules } from '../../src/queue/schedules.js';
import type { CleanupWorker } from '../../src/queue/worker.js';
import type { RunRecord } from '../../src/runs/run-record.js';
import { createAppApi } from '../support/app-api.js';
import { runCli } from '../support/cli-process.js';
import { captureLogger } from '../support/log-capture.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { PURGE_PROJECT_ID, cliEnv } from '../support/purge-inventory.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'runs-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** A large account: 20 instances of 1,000 tasks (about 60% of them finished, so selected). */
const LARGE_SEED = { projectId: PURGE_PROJECT_ID, instances: 20, tasksPerInstance: 1_000, seed: 11 };
const FINAL = new Set(['SUCCESS', 'FAILED']);

let h: Harness;
let app: App;
let api: FastifyInstance;
let dcs: DcsClient;
let scheduleConnection: RedisClient;
let schedules: ScheduleWorker;
const logs = captureLogger('info');

beforeAll(async () => {
  h = await createHarness('runs', { seed: LARGE_SEED });
  dcs = createDcsClient({ endpoint: h.emulator.url, credentials: h.credentials });
  app = createApp(configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: h.prefix }), {
    role: 'api',
    logger: logs.logger,
  });
  await new Promise((resolve) => app.connection.once('ready', resolve));
  api = createAppApi(app, {
    logger: logs.logger,
    auth: { token: TOKEN, label: 'ci-bot' },
    purges: { defaultProjectId: h.projectId },
    bullBoard: false,
  });
  scheduleConnection = createRedisConnection(REDIS_URL, 'worker');
  schedules = createScheduleWorker({
    connection: scheduleConnection,
    prefix: h.prefix,
    logger: logs.logger,
    getLister: () => dcs,
    producer: h.producer,
    verifyPollMs: 100,
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await schedules?.close();
  scheduleConnection?.disconnect();
  await app?.close();
  await dcs?.close();
  await h?.close();
});

const post = (url: string, payload: object) => api.inject({ method: 'POST', url, headers: AUTH, payload });
const get = (url: string) => api.inject({ method: 'GET', url, headers: AUTH });

async function readRun(runId: string): Promise<RunRecord> {
  const res = await get(`/v1/runs/${runId}`);
  expect(res.statusCode).toBe(200);
  return res.json();
}

/** Waits until the run's state is one of `states`; answers its record. */
function waitForState(runId: string, states: string[], timeoutMs = 20_000): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await readRun(runId);
      return states.includes(run.state) ? run : undefined;
    },
    `run ${runId} to reach ${states.join(' or ')}`,
    timeoutMs,
    50,
  );
}

function finishedTasksOf(instanceIds: Set<string> | undefined = undefined): number {
  return h.emulator
    .remainingTasks({ projectId: h.projectId })
    .filter((t) => FINAL.has(t.status) && (instanceIds === undefined || instanceIds.has(t.instance_id)))
    .length;
}

describe('an API purge', () => {
  it('answers 202 in under a second on a large account and its run finishes with the counts the emulator saw', async () => {
    const selectable = finishedTasksOf();
    expect(selectable).toBeGreaterThan(10_000);
    const deletedBefore = h.emulator.stats().deletions.count;

    const started = performance.now();
    const res = await post('/v1/purges', { all_instances: true, dry_run: false, max: 1_000_000 });
    const answeredMs = performance.now() - started;
    expect(res.statusCode).toBe(202);
    expect(answeredMs).toBeLessThan(1_000);
    const accepted = res.json();
    expect(accepted).toMatchObject({ dry_run: false, state: 'listing' });
    expect(accepted.run_url).toBe(`/v1/runs/${accepted.run_id}`);
    const runId: string = accepted.run_id;

    const early = await readRun(runId);
    expect(early).toMatchObject({ kind: 'api-purge', started_by: 'api ci-bot', verify: false });
    expect(early.spec).toMatchObject({ scope: { project_id: h.projectId, all_instances: true } });

    const enqueued = await waitForState(runId, ['enqueued', 'running', 'finished'], 120_000);
    expect(enqueued.counts).toMatchObject({ selected: selectable, enqueued: selectable, duplicates: 0 });
    const listed = (await get('/v1/runs?limit=5')).json().runs.map((r: RunRecord) => r.run_id);
    expect(listed).toContain(runId);

    const worker: CleanupWorker = await h.startWorker({ concurrency: 64 });
    try {
      const done = await waitForState(runId, ['finished'], 240_000);
      const deletedByEmulator = h.emulator.stats().deletions.count - deletedBefore;
      expect(deletedByEmulator).toBe(selectable);
      // Every job counted once: what the emulator deleted is what the run counts as deleted or, for
      // a DELETE whose answer was lost (a client timeout on a loaded machine) and was asked again,
      // already gone.
      expect(done.counts).toEqual({
        selected: selectable,
        enqueued: selectable,
        duplicates: 0,
        deleted: expect.any(Number),
        already_gone: expect.any(Number),
        dead_lettered: 0,
        cancelled: 0,
        pending: 0,
      });
      expect(done.counts.deleted + done.counts.already_gone).toBe(deletedByEmulator);
      expect(done.counts.deleted).toBeGreaterThan(deletedByEmulator * 0.9);
      expect(finishedTasksOf()).toBe(0);
      expect(done.finished_at).not.toBeNull();
    } finally {
      await worker.close();
    }
  }, 400_000);

  it('ends `failed` with the guard named when more tasks match than max, enqueueing nothing', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    h.emulator.addTasks(instance_id, [{ status: 'SUCCESS' }, { status: 'FAILED' }, { status: 'SUCCESS' }]);
    const res = await post('/v1/purges', { instances: [instance_id], max: 2, dry_run: false });
    expect(res.statusCode).toBe(202);
    const run = await waitForState(res.json().run_id, ['failed']);
    expect(run.error).toMatch(/guard: 3 tasks match, more than max 2/);
    expect(run.counts.enqueued).toBe(0);
    expect(await h.queue.getWaitingCount()).toBe(0);
  });

  it('returns the run id of a POST /v1/deletions batch, whose run counts its jobs', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    const tasks = h.emulator
      .addTasks(instance_id, [{ status: 'SUCCESS' }, { status: 'SUCCESS' }])
      .map((t) => ({ project_id: h.projectId, instance_id, task_id: t.id }));
    const res = await post('/v1/deletions', { tasks });
    expect(res.statusCode).toBe(202);
    const { run_id } = res.json();
    expect(run_id).toMatch(/^batch-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect((await readRun(run_id)).counts).toMatchObject({ selected: 2, enqueued: 2, pending: 2 });
    const worker = await h.startWorker();
    try {
      const done = await waitForState(run_id, ['finished']);
      expect(done).toMatchObject({ kind: 'api-batch', started_by: 'api ci-bot' });
      expect(done.counts).toMatchObject({ deleted: 2, pending: 0 });
    } finally {
      await worker.close();
    }
  });
});

describe('cancel', () => {
  it("removes a run's waiting jobs, counts them cancelled, and leaves their tasks alone", async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    h.emulator.addTasks(
      instance_id,
      Array.from({ length: 40 }, () => ({ status: 'SUCCESS' as const })),
    );
    // No deletion worker runs: every job of the run stays waiting.
    const res = await post('/v1/purges', { instances: [instance_id], dry_run: false });
    const runId: string = res.json().run_id;
    await waitForState(runId, ['enqueued']);
    expect(await h.queue.getWaitingCount()).toBe(40);

    const cancel = await post(`/v1/runs/${runId}/cancel`, {});
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toEqual({ run_id: runId, cancelled: true, state: 'cancelled', removed: 40 });
    const run = await readRun(runId);
    expect(run.state).toBe('cancelled');
    expect(run.counts).toMatchObject({ enqueued: 40, cancelled: 40, pending: 0, deleted: 0 });
    expect(await h.queue.getWaitingCount()).toBe(0);
    expect(finishedTasksOf(new Set([instance_id]))).toBe(40);

    // Over already: nothing more to cancel; an unknown run is a 404, a malformed id a 400.
    expect((await post(`/v1/runs/${runId}/cancel`, {})).json()).toMatchObject({
      cancelled: false,
      removed: 0,
    });
    expect((await post('/v1/runs/purge-none/cancel', {})).statusCode).toBe(404);
    expect((await get('/v1/runs/bad%20id')).statusCode).toBe(400);
  });

  it('`runs cancel` (CLI) removes the waiting jobs of a run', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    h.emulator.addTasks(
      instance_id,
      Array.from({ length: 5 }, () => ({ status: 'FAILED' as const })),
    );
    const runId = (await post('/v1/purges', { instances: [instance_id], dry_run: false })).json()
      .run_id as string;
    await waitForState(runId, ['enqueued']);
    const cancel = await runCli(['runs', 'cancel', runId], cliEnv(h.emulator, h.prefix));
    expect(cancel.stderr).toBe('');
    expect(cancel.stdout).toMatch(new RegExp(`run ${runId} cancelled: 5 waiting job\\(s\\) removed`));
    expect(cancel.code).toBe(0);
    expect((await readRun(runId)).counts).toMatchObject({ cancelled: 5, pending: 0 });
    const malformed = await runCli(['runs', 'cancel', 'bad id'], cliEnv(h.emulator, h.prefix));
    expect(malformed.stderr).toMatch(/run id "bad id"/);
    expect(malformed.code).toBe(64);
  });

  it('leaves jobs another run enqueued alone', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    const tasks = h.emulator
      .addTasks(instance_id, [{ status: 'SUCCESS' }, { status: 'SUCCESS' }])
      .map((t) => ({ project_id: h.projectId, instance_id, task_id: t.id }));
    const batch = (await post('/v1/deletions', { tasks })).json().run_id as string;
    const purge = (await post('/v1/purges', { instances: [instance_id], dry_run: false })).json()
      .run_id as string;
    const enqueued = await waitForState(purge, ['enqueued', 'finished']);
    expect(enqueued.counts).toMatchObject({ selected: 2, enqueued: 0, duplicates: 2 });
    // Nothing of its own was pending: it finished at once, so there is nothing to cancel.
    expect(enqueued.state).toBe('finished');
    const cancelBatch = (await post(`/v1/runs/${batch}/cancel`, {})).json();
    expect(cancelBatch).toMatchObject({ cancelled: true, removed: 2 });
    expect(await h.queue.getJob(buildJobId(tasks[0]!))).toBeUndefined();
  });
});

describe('verification', () => {
  it('an API run with verify: true reports a task DCS still lists after its deletion', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    const added = h.emulator.addTasks(instance_id, [
      { status: 'SUCCESS' },
      { status: 'SUCCESS' },
      { status: 'FAILED' },
    ]);
    // DCS answers this task's DELETE with success but keeps it (it reappears in the listing).
    h.emulator.scriptTask(added[1]!.id, [{ status: 204, noBody: true, deletes: false }]);
    const runId = (
      await post('/v1/purges', { instances: [instance_id], dry_run: false, verify: true })
    ).json().run_id as string;
    const worker = await h.startWorker();
    try {
      const verified = await waitFor(async () => {
        const run = await readRun(runId);
        return run.counts.still_present === undefined ? undefined : run;
      }, 'the verification');
      expect(verified.state).toBe('finished');
      expect(verified.counts).toMatchObject({ deleted: 3, pending: 0, still_present: 1 });
      const verification = verified.report?.verification as { still_present: { task_id: string }[] };
      expect(verification.still_present.map((t) => t.task_id)).toEqual([added[1]!.id]);
    } finally {
      await worker.close();
    }
  });

  it('records a schedule firing as a run, started by the schedule, verified when its spec says so', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    h.emulator.addTasks(instance_id, [{ status: 'SUCCESS' }, { status: 'FAILED' }]);
    const schedulesApi = createSchedules({ connection: h.connection, prefix: h.prefix });
    const worker = await h.startWorker();
    try {
      await schedulesApi.upsert(
        'runs-nightly',
        { cron: '0 3 1 1 *' },
        {
          scope: { project_id: h.projectId, instances: [instance_id], all_instances: false },
          filters: { statuses: ['SUCCESS', 'FAILED'], names: [], exclude_instances: [] },
          max: 10,
          verify: true,
        },
      );
      await schedulesApi.runNow('runs-nightly');
      const run = await waitFor(async () => {
        const runs: RunRecord[] = (await get('/v1/runs?limit=20')).json().runs;
        const fired = runs.find((r) => r.started_by === 'schedule runs-nightly');
        return fired?.counts.still_present === undefined ? undefined : fired;
      }, 'the firing verified');
      expect(run).toMatchObject({ kind: 'schedule', state: 'finished', verify: true });
      expect(run.run_id).toMatch(/^sched-runs-nightly-/);
      expect(run.counts).toMatchObject({
        selected: 2,
        enqueued: 2,
        deleted: 2,
        pending: 0,
        still_present: 0,
      });
    } finally {
      await worker.close();
      await schedulesApi.remove('runs-nightly');
      await schedulesApi.close();
    }
  });

  it('`purge --verify` (CLI) finds the task that reappeared and exits 1; `runs` shows and reports the run', async () => {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    const added = h.emulator.addTasks(instance_id, [{ status: 'SUCCESS' }, { status: 'SUCCESS' }]);
    h.emulator.scriptTask(added[0]!.id, [{ status: 204, noBody: true, deletes: false }]);
    const env = cliEnv(h.emulator, h.prefix);
    const dir = await mkdtemp(join(tmpdir(), 'runs-'));
    const worker = await h.startWorker();
    let runId: string;
    try {
      const purge = await runCli(
        ['purge', '--instance', instance_id, '--yes', '--wait', '--verify', '--report', join(dir, 'r.json')],
        env,
      );
      expect(purge.stderr).not.toMatch(/dcs-cleanup:/);
      expect(purge.stdout).toMatch(
        new RegExp(`verify: 1 task\\(s\\) still present after the run: ${instance_id}/${added[0]!.id}`),
      );
      expect(purge.code).toBe(1);
      const report = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8'));
      expect(report.counts).toMatchObject({ deleted: 2, still_present: 1 });
      runId = report.run_id;
    } finally {
      await worker.close();
    }

    const show = await runCli(['runs', 'show', runId, '--json'], env);
    expect(show.code).toBe(0);
    const record = JSON.parse(show.stdout);
    expect(record).toMatchObject({ run_id: runId, kind: 'purge', state: 'finished', verify: true });
    expect(record.started_by).toMatch(/^.+@.+$/);
    expect(record.counts).toMatchObject({ selected: 2, deleted: 2, still_present: 1 });

    const list = await runCli(['runs', 'list', '--limit', '3'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${runId}  finished  purge  by `));

    const out = join(dir, 'run.json');
    expect((await runCli(['runs', 'report', runId, '--out', out], env)).code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({
      run_id: runId,
      counts: { still_present: 1 },
    });

    const over = await runCli(['runs', 'cancel', runId], env);
    expect(over.code).toBe(1);
    expect(over.stdout).toMatch(/over already \(finished\)/);
    const unknown = await runCli(['runs', 'show', 'purge-nothing'], env);
    expect(unknown.stderr).toMatch(/no run purge-nothing/);
    expect(unknown.code).toBe(1);
  }, 60_000);
});
