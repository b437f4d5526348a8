import { describe, expect, it } from 'vitest';
import { isCleanupError } from '../../src/index.js';
import { buildJobId, buildLegacyJobId } from '../../src/queue/job-contract.js';
import { followRun } from '../../src/queue/run-tracker.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { useProducer } from '../support/producer-fixture.js';

const t = useProducer('producer', 7);

const task = (n: number) => ({
  project_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  instance_id: '3f8c2a1e-6b7d-4c5e-9a0b-1c2d3e4f5a6b',
  task_id: `ff8080818f1e2d3c018f1e4b5a6c${String(n).padStart(4, '0')}`,
});

describe('the producer library API', () => {
  it('enqueues many tasks in chunks, with the job contract payload and options', async () => {
    const summary = await t.producer.enqueueMany(
      Array.from({ length: 20 }, (_, i) => task(i)),
      { reason: 'tenant left', source: 'billing', runId: 'run-1' },
    );
    expect(summary.enqueued).toBe(20);
    expect(summary.duplicates).toBe(0);
    expect(summary.jobs).toHaveLength(20);
    const job = await t.queue.getJob(summary.jobs[3]!.job_id);
    expect(job!.name).toBe('delete-task');
    expect(job!.data).toMatchObject({
      schema_version: 2,
      ...task(3),
      reason: 'tenant left',
      source: 'billing',
      run_id: 'run-1',
    });
    expect(job!.opts.attempts).toBe(8);
    expect(job!.opts.backoff).toEqual({ type: 'dcs-jitter' });
    // Finished jobs: the dedupe window, and every job 50/s can finish in it (not a million).
    expect(job!.opts.removeOnComplete).toEqual({ age: 3_600, count: 180_000 });
  });

  it('keeps finished jobs as the configuration says (JOBS_DEDUPE_WINDOW_SEC, JOBS_KEEP_COMPLETED)', async () => {
    const config = loadConfig({
      REDIS_URL,
      CLEANUP_PREFIX: t.prefix,
      JOBS_DEDUPE_WINDOW_SEC: '600',
      JOBS_KEEP_COMPLETED: '5000',
    });
    const app = createApp(config, { role: 'producer', logger: captureLogger('warn').logger });
    try {
      const [enqueued] = (await app.producer().enqueueMany([task(900)])).jobs;
      const job = await t.queue.getJob(enqueued!.job_id);
      expect(job!.opts.removeOnComplete).toEqual({ age: 600, count: 5_000 });
    } finally {
      await app.close();
    }
  });

  it('reports tasks already queued, and repeats within one call, as duplicates', async () => {
    const summary = await t.producer.enqueueMany([task(1), task(100), task(100)]);
    expect(summary).toMatchObject({ enqueued: 1, duplicates: 2 });
    expect(summary.jobs.map((j) => j.duplicate)).toEqual([true, false, true]);
  });

  it('validates the whole input first: one bad item names its index and field, and nothing is enqueued', async () => {
    const before = await t.queue.count();
    const bad = [task(200), task(201), { ...task(202), task_id: 'bad id!' }, task(203)];
    const err = await t.producer.enqueueMany(bad).catch((e: unknown) => e);
    expect(isCleanupError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toContain('tasks[2].task_id');
    expect(await t.queue.count()).toBe(before);
  });

  it('rejects a region that is not a region, a missing field and a non-object', async () => {
    for (const [value, field] of [
      [{ ...task(300), region: 'evil.example.com/x' }, 'task.region'],
      [{ project_id: task(1).project_id, task_id: task(1).task_id }, 'task.instance_id'],
      ['just a string', 'task'],
    ] as const) {
      const err = await t.producer.enqueue(value as never).catch((e: unknown) => e);
      expect(isCleanupError(err, 'INVALID_INPUT')).toBe(true);
      expect((err as Error).message).toContain(field);
    }
  });
});

describe('labels', () => {
  it('refuses a reason longer than the contract allows instead of enqueueing jobs the worker would reject', async () => {
    const err = await t.producer.enqueue(task(400), { reason: 'x'.repeat(201) }).catch((e: unknown) => e);
    expect(isCleanupError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toMatch(/^reason:/);
    expect(
      await t.queue.getJob(`del_${task(400).project_id}_${task(400).instance_id}_${task(400).task_id}`),
    ).toBeUndefined();
  });
});

describe('job ids', () => {
  // The two tasks of the collision the old `del-<p>-<i>-<t>` form had: both gave del-p1-p2-i1-t1.
  const a = { project_id: 'p1-p2', instance_id: 'i1', task_id: 't1' };
  const b = { project_id: 'p1', instance_id: 'p2-i1', task_id: 't1' };

  it('gives two tasks whose old ids collided two jobs, so both are deleted', async () => {
    const summary = await t.producer.enqueueMany([a, b]);
    expect(summary).toMatchObject({ enqueued: 2, duplicates: 0 });
    const [ja, jb] = summary.jobs.map((j) => j.job_id);
    expect(ja).not.toBe(jb);
    expect((await t.queue.getJob(ja!))!.data).toMatchObject(a);
    expect((await t.queue.getJob(jb!))!.data).toMatchObject(b);
  });

  it('counts a task held by a job in the old id form as a duplicate, and only that task', async () => {
    const held = { project_id: 'q1-q2', instance_id: 'i1', task_id: 't1' };
    const other = { project_id: 'q1', instance_id: 'q2-i1', task_id: 't1' };
    // What a producer of the previous version wrote: the old id, the same payload.
    await t.queue.add('delete-task', { schema_version: 1, ...held }, { jobId: buildLegacyJobId(held) });
    const summary = await t.producer.enqueueMany([held, other]);
    expect(summary).toMatchObject({ enqueued: 1, duplicates: 1 });
    expect(summary.jobs[0]).toMatchObject({ job_id: 'del-q1-q2-i1-t1', duplicate: true });
    expect(summary.jobs[1]).toMatchObject({ job_id: buildJobId(other), duplicate: false });
    expect(await t.queue.getJob(buildJobId(held))).toBeUndefined();
    // A purge following its run finds the old job of `held` (still waiting), not an unknown end.
    const followed = await followRun({ queue: t.queue, jobIds: [buildJobId(held)], timeoutMs: 0 });
    expect(followed.open).toEqual([buildJobId(held)]);
  });

  it('does not follow another task through an old id it happens to share', async () => {
    const held = { project_id: 'r1-r2', instance_id: 'i1', task_id: 't1' };
    const other = { project_id: 'r1', instance_id: 'r2-i1', task_id: 't1' };
    await t.queue.add('delete-task', { schema_version: 1, ...held }, { jobId: buildLegacyJobId(held) });
    const followed = await followRun({ queue: t.queue, jobIds: [buildJobId(other)], timeoutMs: 0 });
    expect(followed.ends.get(buildJobId(other))?.outcome).toBe('unknown');
  });
});
