/**
 * Scheduled housekeeping against the emulator: BullMQ job schedulers on their own queue, two
 * schedule workers competing for firings, an in-process deletion worker, and the `schedule` CLI as
 * a real child process (from dist/: `npm run build` first).
 */
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { loadConfig } from '../../src/config/config.js';
import { addSchedule } from '../../src/cli/schedule-command.js';
import { parsePurgeFilters } from '../../src/purge/purge-filters.js';
import { circuitKey } from '../../src/queue/circuit-breaker.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createScheduleWorker, type ScheduleWorker } from '../../src/queue/schedule-worker.js';
import { createSchedules, type LastRun, type Schedules } from '../../src/queue/schedules.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { runCli } from '../support/cli-process.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';
import {
  DAY_MS,
  PURGE_PROJECT_ID,
  SEED,
  addEveryStatusAndAge,
  cliEnv,
  expectedSelection,
  unfinishedIds,
} from '../support/purge-inventory.js';

let h: Harness;
let client: DcsClient;
let schedules: Schedules;
const connections: RedisClient[] = [];
const scheduleWorkers: ScheduleWorker[] = [];
const logs = captureLogger('info');

/** A schedule worker on its own connection, as a separate `dcs-cleanup worker` process would have. */
function startScheduleWorker(): ScheduleWorker {
  const connection = createRedisConnection(REDIS_URL, 'worker');
  connections.push(connection);
  const worker = createScheduleWorker({
    connection,
    prefix: h.prefix,
    logger: logs.logger,
    getLister: () => client,
    producer: h.producer,
  });
  scheduleWorkers.push(worker);
  return worker;
}

beforeAll(async () => {
  h = await createHarness('schedule', { seed: SEED });
  addEveryStatusAndAge(h.emulator);
  client = createDcsClient({
    endpoint: h.emulator.url,
    credentials: new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk),
  });
  schedules = createSchedules({ connection: h.connection, prefix: h.prefix });
  await h.startWorker();
});

afterAll(async () => {
  for (const w of scheduleWorkers) await w.close();
  await schedules?.close();
  for (const c of connections) c.disconnect();
  await client?.close();
  await h?.close();
});

describe('scheduled purges', () => {
  it('a short --every schedule fires, its runs delete what they should, and two workers never run one firing twice', async () => {
    const unfinished = unfinishedIds(h.emulator);
    const expected = expectedSelection(h.emulator, {
      olderThanMs: 30 * DAY_MS,
      statuses: ['FAILED', 'SUCCESS'],
    });
    expect(expected.size).toBeGreaterThan(20);
    const processed: { worker: string; jobId: string; runId: string }[] = [];
    for (const [label, w] of [
      ['A', startScheduleWorker()],
      ['B', startScheduleWorker()],
    ] as const) {
      w.worker.on('completed', (job: Job, result: LastRun) =>
        processed.push({ worker: label, jobId: job.id!, runId: result.run_id }),
      );
    }
    await schedules.upsert(
      'every-second',
      { everyMs: 1_000 },
      {
        scope: { project_id: PURGE_PROJECT_ID, all_instances: true },
        filters: parsePurgeFilters({ olderThan: '30d' }),
        max: 1000,
      },
    );

    await waitFor(() => processed.length >= 4, 'four firings', 30_000, 50);
    await waitFor(
      () => expectedSelection(h.emulator, { olderThanMs: 30 * DAY_MS }).size === 0,
      'the old tasks to be deleted',
      30_000,
      50,
    );
    await schedules.remove('every-second');

    const remaining = new Set(h.emulator.remainingTasks({ projectId: PURGE_PROJECT_ID }).map((t) => t.id));
    for (const id of expected) expect(remaining.has(id)).toBe(false);
    for (const id of unfinished) expect(remaining.has(id)).toBe(true);
    expect(new Set(processed.map((p) => p.jobId)).size).toBe(processed.length);
    expect(new Set(processed.map((p) => p.runId)).size).toBe(processed.length);
    const runRecords = logs.records.filter((r) => r.msg === 'schedule run' && r.schedule === 'every-second');
    expect(new Set(runRecords.map((r) => r.job_id)).size).toBe(runRecords.length);
    expect(runRecords.reduce((n, r) => n + r.enqueued, 0)).toBe(expected.size);
    // Each deletion's outcome record carries the run id of the firing that enqueued it.
    const firstRun = runRecords.find((r) => r.enqueued > 0)!;
    const outcomes = h.logs.records.filter((r) => r.msg === 'task deleted' && r.run_id === firstRun.run_id);
    expect(outcomes.length).toBe(firstRun.enqueued);
  });

  it('a firing over the guard enqueues nothing and records why', async () => {
    const worker = scheduleWorkers[0] ?? startScheduleWorker();
    await schedules.upsert(
      'guarded',
      { cron: '0 3 * * *', tz: 'Asia/Shanghai' },
      {
        scope: { project_id: PURGE_PROJECT_ID, all_instances: true },
        filters: parsePurgeFilters({}),
        max: 3,
      },
    );
    const jobsBefore = await h.queue.getJobCountByTypes('wait', 'active', 'delayed', 'completed');
    await schedules.runNow('guarded');
    const info = await waitFor(
      async () => (await schedules.get('guarded'))?.last_run && (await schedules.get('guarded')),
      'the guarded run',
    );
    expect(info.last_run).toMatchObject({ status: 'guard_stopped', enqueued: 0 });
    expect(info.last_run!.matched).toBeGreaterThan(3);
    expect(await h.queue.getJobCountByTypes('wait', 'active', 'delayed', 'completed')).toBe(jobsBefore);
    expect(worker).toBeDefined();
    await schedules.remove('guarded');
  });

  it('skips a firing while the circuit breaker holds the queue paused, sending nothing to DCS', async () => {
    if (scheduleWorkers.length === 0) startScheduleWorker();
    const listCalls = () => h.emulator.stats().requests.byRoute.listInstances;
    await h.connection.hset(circuitKey(h.prefix), {
      action: 'auth_failed',
      opened_at: new Date().toISOString(),
    });
    const before = listCalls();
    try {
      // Upserting an `every` scheduler fires it at once.
      await schedules.upsert(
        'while-paused',
        { everyMs: 86_400_000 },
        {
          scope: { project_id: PURGE_PROJECT_ID, all_instances: true },
          filters: parsePurgeFilters({}),
          max: 1000,
        },
      );
      const info = await waitFor(
        async () => (await schedules.get('while-paused'))?.last_run && (await schedules.get('while-paused')),
        'the skipped firing',
      );
      expect(info.last_run).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/circuit breaker/),
      });
      expect(listCalls()).toEqual(before);
    } finally {
      await h.connection.del(circuitKey(h.prefix));
      await schedules.remove('while-paused');
    }
  });

  it('refuses a bad cron pattern, time zone or name', async () => {
    const config = loadConfig(cliEnv(h.emulator, h.prefix));
    const out = { write: () => undefined };
    const flags = { allInstances: true, max: 10 };
    await expect(
      addSchedule(schedules, config, out, 'x', { ...flags, cron: 'not a cron' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      addSchedule(schedules, config, out, 'x', { ...flags, cron: '0 3 * * *', tz: 'Mars/Olympus' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'tz' });
    await expect(
      addSchedule(schedules, config, out, 'bad name', { ...flags, every: '1h' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    await expect(
      addSchedule(schedules, config, out, 'x', { ...flags, every: '1h', cron: '0 3 * * *' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // An account the configuration does not have, or every project of one: refused when added.
    await expect(
      addSchedule(schedules, config, out, 'x', {
        ...flags,
        every: '1h',
        account: 'ghost',
        project: config.DCS_PROJECT_ID!,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: '--account' });
    await expect(
      addSchedule(schedules, config, out, 'x', { ...flags, every: '1h', account: 'default' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'project' });
    expect(await schedules.list()).toEqual([]);
  });
});

describe('schedule CLI', () => {
  it('adds, updates, lists, runs now and removes a schedule', async () => {
    const env = cliEnv(h.emulator, h.prefix);
    if (scheduleWorkers.length === 0) startScheduleWorker();
    const config = loadConfig(env);
    await addSchedule(schedules, config, { write: () => undefined }, 'nightly', {
      allInstances: true,
      olderThan: '30d',
      cron: '0 3 * * *',
      max: 1000,
    });
    const updated = await runCli(
      [
        'schedule',
        'add',
        'nightly',
        '--cron',
        '0 3 * * *',
        '--tz',
        'Asia/Shanghai',
        '--all-instances',
        '--older-than',
        '90d',
        '--status',
        'FAILED',
        '--max',
        '50',
      ],
      env,
    );
    expect(updated.code).toBe(0);
    expect(updated.stdout).toMatch(
      /schedule nightly saved: cron "0 3 \* \* \*" Asia\/Shanghai; next run \d{4}-\d{2}-\d{2}T19:00:00\.000Z/,
    );

    const fired = await runCli(['schedule', 'run', 'nightly'], env);
    expect(fired.code).toBe(0);
    await waitFor(async () => (await schedules.get('nightly'))?.last_run, 'the manual run');

    const listed = await runCli(['schedule', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const all = JSON.parse(listed.stdout);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      name: 'nightly',
      cron: '0 3 * * *',
      tz: 'Asia/Shanghai',
      spec: { filters: { older_than: '90d', statuses: ['FAILED'] }, max: 50 },
      last_run: { status: expect.stringMatching(/^(enqueued|nothing_matched)$/) },
    });
    expect(new Date(all[0].next_run_at).getUTCHours()).toBe(19);

    const removed = await runCli(['schedule', 'remove', 'nightly'], env);
    expect(removed.code).toBe(0);
    expect(await schedules.list()).toEqual([]);
  });
});
