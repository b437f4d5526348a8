import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import type { CleanupWorker } from '../../src/queue/worker.js';

let h: Harness;
let worker: CleanupWorker;
let env: Record<string, string>;
const rejected: string[] = [];

beforeAll(async () => {
  h = await createHarness('dlq-cli', { seed: { instances: 1, tasksPerInstance: 0 } });
  env = { REDIS_URL, CLEANUP_PREFIX: h.prefix };
  worker = await h.startWorker();
  const tasks = h.emulator.addTasks(h.instanceId, [
    { status: 'SUCCESS' },
    { status: 'SUCCESS' },
    { status: 'SUCCESS' },
  ]);
  h.emulator.scriptTask(tasks[0]!.id, [{ status: 400, errorCode: '111400070' }]);
  h.emulator.scriptTask(tasks[1]!.id, [{ status: 403, errorCode: 'DCS.4030' }]);
  rejected.push(tasks[0]!.id, tasks[1]!.id);
  await h.producer.enqueueMany(
    tasks.map((t) => ({ project_id: h.projectId, instance_id: h.instanceId, task_id: t.id })),
  );
  await waitFor(async () => (await worker.deadLetters.count()) === 2, 'two dead letters');
  expect(await worker.waitUntilIdle()).toBe('idle');
});
afterAll(async () => {
  await h?.close();
});

describe('dcs-cleanup dlq and status', () => {
  it('status --json counts the dead letters and says the queue runs', async () => {
    const { code, stdout } = await runCli(['status', '--json'], env);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      dead_letters: 2,
      completed: 3,
      paused: false,
      circuit: { open: false },
    });
  });

  it('dlq list filters by error code, and show prints one record with its history', async () => {
    const list = await runCli(['dlq', 'list', '--json', '--error-code', '111400070'], env);
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout) as { id: string; job_data: { task_id: string } }[];
    expect(entries.map((e) => e.job_data.task_id)).toEqual([rejected[0]]);
    const show = await runCli(['dlq', 'show', entries[0]!.id], env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ reason: 'rejected', http_status: 400, attempts: 1 });
    const missing = await runCli(['dlq', 'show', 'dl-nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead letter with id "dl-nope"');
  });

  it('dlq replay re-enqueues a record as a fresh job that now deletes the task, then removes the record', async () => {
    const [entry] = JSON.parse(
      (await runCli(['dlq', 'list', '--json', '--reason', 'rejected', '--error-code', 'DCS.4030'], env))
        .stdout,
    ) as { id: string }[];
    const replay = await runCli(['dlq', 'replay', entry!.id, '--json'], env);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      replayed: [{ id: entry!.id, duplicate: false }],
      skipped: [],
    });
    await waitFor(
      () => h.emulator.getTask(rejected[1]!) === undefined,
      'the replayed job to delete the task',
    );
    expect(await worker.deadLetters.get(entry!.id)).toBeUndefined();
  });

  it('dlq replay without ids or --all is a usage error; purge removes the rest', async () => {
    const usage = await runCli(['dlq', 'replay'], env);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('name dead letter ids, or pass --all');
    const purge = await runCli(['dlq', 'purge'], env);
    expect(purge.code).toBe(0);
    expect(purge.stdout).toContain('purged 1 dead letter(s)');
    expect(await worker.deadLetters.count()).toBe(0);
  });
});
