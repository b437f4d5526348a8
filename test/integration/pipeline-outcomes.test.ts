import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job } from 'bullmq';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { waitFor } from '../support/wait-for.js';
import type { CleanupWorker } from '../../src/queue/worker.js';
import type { DeleteJobResult } from '../../src/queue/job-contract.js';
import { RETRY_REASONS } from '../../src/observability/metrics.js';

let h: Harness;
let worker: CleanupWorker;

beforeAll(async () => {
  h = await createHarness('outcomes', { seed: { instances: 1, tasksPerInstance: 0 } });
  worker = await h.startWorker();
});
afterAll(async () => {
  await h?.close();
});

/** Adds one finished task to the emulator and returns its id. */
function seedTask(): string {
  const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
  return task!.id;
}

async function enqueueAndFinish(taskId: string): Promise<{ job: Job; result: DeleteJobResult }> {
  const { job_id } = await h.producer.enqueue({
    project_id: h.projectId,
    instance_id: h.instanceId,
    task_id: taskId,
  });
  const job = await waitFor(async () => {
    // Ask the state first, then read the job: a job read before it completed has no return value yet.
    if ((await h.queue.getJobState(job_id)) !== 'completed') return undefined;
    return Job.fromId(h.queue, job_id);
  }, `job ${job_id} to complete`);
  return { job, result: job.returnvalue as DeleteJobResult };
}

describe('the worker pool against the emulator', () => {
  it('deletes a task that DCS answers 200 for, in one request', async () => {
    const taskId = seedTask();
    const { result } = await enqueueAndFinish(taskId);
    expect(result).toMatchObject({ outcome: 'deleted', http_status: 200, attempts: 1 });
    expect(result.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(h.emulator.getTask(taskId)).toBeUndefined();
    expect(h.emulator.deleteRequestCount(taskId)).toBe(1);
  });

  it('deletes a task that DCS answers 204 without a body for', async () => {
    const taskId = seedTask();
    h.emulator.scriptTask(taskId, [{ status: 204, noBody: true, deletes: true }]);
    const { result } = await enqueueAndFinish(taskId);
    expect(result).toMatchObject({ outcome: 'deleted', http_status: 204 });
    expect(h.emulator.getTask(taskId)).toBeUndefined();
  });

  it('completes as already_gone when the task no longer exists', async () => {
    const { result } = await enqueueAndFinish('ffffffffffffffffffffffffffffffff');
    expect(result.outcome).toBe('already_gone');
    expect(result.http_status).toBe(404);
  });

  it('retries transient 500s until they heal, and logs a warn record per BullMQ retry', async () => {
    const taskId = seedTask();
    h.emulator.scriptTask(taskId, [
      { status: 500, errorCode: '111500000' },
      { status: 503 },
      { status: 502 },
    ]);
    const { result, job } = await enqueueAndFinish(taskId);
    expect(result).toMatchObject({ outcome: 'deleted', http_status: 200, attempts: 4 });
    // attemptsMade counts the failed run and the completing one.
    expect(job.attemptsMade).toBe(2);
    expect(h.emulator.deleteRequestCount(taskId)).toBe(4);
    const warns = h.logs.records.filter((r) => r.msg === 'retry scheduled' && r.task_id === taskId);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ level: 40, attempt: 1 });
    expect(['http_503', '111500000']).toContain(warns[0]!.reason);
    expect(warns[0]!.delay_ms).toBeGreaterThanOrEqual(0);
  });

  it('labels retries from a fixed set, never with the error code DCS sent', async () => {
    const taskId = seedTask();
    const code = 'ATTACKER-CHOSEN-LABEL-7';
    h.emulator.scriptTask(taskId, [
      { status: 503, errorCode: code },
      { status: 599, errorCode: code },
    ]);
    const { result } = await enqueueAndFinish(taskId);
    expect(result).toMatchObject({ outcome: 'deleted' });
    const retries = (await h.metrics.registry.getSingleMetric('dcs_cleanup_retries_total')!.get()).values;
    const reasons = retries.map((v) => String(v.labels.reason));
    expect(reasons).toEqual(expect.arrayContaining(['http_503', 'http_5xx']));
    for (const reason of reasons) expect(RETRY_REASONS).toContain(reason);
    expect(await h.metrics.registry.metrics()).not.toContain(code);
  });

  it('dead-letters a task whose 500s never heal once the attempt budget is spent', async () => {
    const taskId = seedTask();
    h.emulator.scriptTask(
      taskId,
      Array.from({ length: 20 }, () => ({ status: 500, errorCode: '111500006' })),
    );
    const { result } = await enqueueAndFinish(taskId);
    // 3 BullMQ attempts x (1 + 1 in-process retry) = 6 requests, then the dead letter.
    expect(result).toMatchObject({
      outcome: 'dead_lettered',
      reason: 'retries_exhausted',
      attempts: 6,
      error_code: '111500006',
    });
    expect(h.emulator.deleteRequestCount(taskId)).toBe(6);
    const dl = await worker.deadLetters.get(result.dead_letter_id!);
    expect(dl).toMatchObject({
      reason: 'retries_exhausted',
      http_status: 500,
      error_code: '111500006',
      attempts: 6,
    });
    expect(dl!.history).toHaveLength(6);
    expect(dl!.first_attempt_at! <= dl!.last_attempt_at!).toBe(true);
    expect(h.emulator.getTask(taskId)).toBeDefined();
  });

  it('moves the job to the dead letters at once when DCS answers 400 111400070, with error_code and request_id', async () => {
    const taskId = seedTask();
    h.emulator.scriptTask(taskId, [{ status: 400, errorCode: '111400070' }]);
    const { result } = await enqueueAndFinish(taskId);
    expect(result).toMatchObject({
      outcome: 'dead_lettered',
      reason: 'rejected',
      http_status: 400,
      error_code: '111400070',
      attempts: 1,
    });
    const dl = await worker.deadLetters.get(result.dead_letter_id!);
    expect(dl).toMatchObject({ job_data: { task_id: taskId }, reason: 'rejected', error_code: '111400070' });
    expect(dl!.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(dl!.worker_host).toBeTruthy();
    const record = h.logs.records.find((r) => r.outcome === 'dead_lettered' && r.task_id === taskId);
    expect(record).toMatchObject({
      reason: 'rejected',
      http_status: 400,
      error_code: '111400070',
      project_id: h.projectId,
    });
  });

  it('waits out a 429 without Retry-After and one with Retry-After without spending attempts', async () => {
    const a = seedTask();
    const b = seedTask();
    h.emulator.scriptTask(a, [{ status: 429, errorCode: 'APIGW.0308' }]);
    h.emulator.scriptTask(b, [{ status: 429, errorCode: 'APIGW.0308', retryAfter: 1 }]);
    const started = Date.now();
    const [ra, rb] = await Promise.all([enqueueAndFinish(a), enqueueAndFinish(b)]);
    expect(ra.result.outcome).toBe('deleted');
    expect(rb.result.outcome).toBe('deleted');
    // Only the completing run counts: the throttled runs spent no attempt.
    expect(ra.job.attemptsMade).toBe(1);
    expect(rb.job.attemptsMade).toBe(1);
    expect(ra.job.attemptsStarted).toBe(2);
    // Retry-After: 1 rate-limits the whole queue for about a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(h.logs.records.some((r) => r.msg === 'throttled: queue rate-limited' && r.delay_ms === 1000)).toBe(
      true,
    );
  });

  it('holds back every other job of the queue while a 429 Retry-After runs', async () => {
    const throttled = seedTask();
    h.emulator.scriptTask(throttled, [{ status: 429, errorCode: 'APIGW.0308', retryAfter: 1 }]);
    const first = enqueueAndFinish(throttled);
    // The 429 reaching the emulator is not enough: the pause is set a round trip or two later.
    await waitFor(
      async () => (await h.queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER)) > 0,
      'the pause after the 429',
    );
    const throttledAt = Date.now();
    const others = await Promise.all(Array.from({ length: 5 }, () => enqueueAndFinish(seedTask())));
    await first;
    for (const { job } of others) expect(job.finishedOn! - throttledAt).toBeGreaterThanOrEqual(800);
  });

  it('retries a busy instance (400 111400017) later without dead-lettering it', async () => {
    const taskId = seedTask();
    h.emulator.scriptTask(taskId, [{ status: 400, errorCode: '111400017' }]);
    const { result, job } = await enqueueAndFinish(taskId);
    expect(result.outcome).toBe('deleted');
    expect(job.attemptsMade).toBe(1);
    expect(h.emulator.deleteRequestCount(taskId)).toBe(2);
    expect(
      h.logs.records.some(
        (r) => r.msg === 'retry scheduled' && r.task_id === taskId && r.reason === '111400017',
      ),
    ).toBe(true);
  });

  it('makes one DELETE for a task enqueued twice, and reports the second as a duplicate', async () => {
    const taskId = seedTask();
    const task = { project_id: h.projectId, instance_id: h.instanceId, task_id: taskId };
    const summary = await h.producer.enqueueMany([task, task]);
    expect(summary).toMatchObject({ enqueued: 1, duplicates: 1 });
    const { result } = await enqueueAndFinish(taskId);
    const again = await h.producer.enqueue(task);
    expect(again.duplicate).toBe(true);
    expect(result.outcome).toBe('deleted');
    expect(h.emulator.deleteRequestCount(taskId)).toBe(1);
  });

  it('dead-letters a garbage payload written by another client as invalid_job and keeps working', async () => {
    const job = await h.queue.add(
      'delete-task',
      { project_id: 'x', task_id: 42, evil: '<script>' },
      { jobId: 'garbage-1' },
    );
    const done = await waitFor(
      async () => (await Job.fromId(h.queue, job.id!))?.returnvalue as DeleteJobResult | undefined,
      'garbage job to finish',
    );
    expect(done).toMatchObject({ outcome: 'dead_lettered', reason: 'invalid_job' });
    const dl = await worker.deadLetters.get(done.dead_letter_id!);
    expect(dl).toMatchObject({ reason: 'invalid_job', job_data: { project_id: 'x', task_id: 42 } });
    const { result } = await enqueueAndFinish(seedTask());
    expect(result.outcome).toBe('deleted');
  });

  it('replays a dead letter as a fresh job and removes the record once it is enqueued', async () => {
    const taskId = seedTask();
    h.emulator.scriptTask(taskId, [{ status: 403, errorCode: 'DCS.4030' }]);
    const first = await enqueueAndFinish(taskId);
    expect(first.result).toMatchObject({ outcome: 'dead_lettered', reason: 'rejected' });
    const dlId = first.result.dead_letter_id!;
    const replay = await worker.deadLetters.replay([dlId], h.producer);
    expect(replay.replayed).toEqual([{ id: dlId, job_id: first.job.id, duplicate: false }]);
    expect(await worker.deadLetters.get(dlId)).toBeUndefined();
    await waitFor(() => h.emulator.getTask(taskId) === undefined, 'the replayed job to delete the task');
    expect(h.emulator.deleteRequestCount(taskId)).toBe(2);
  });
});
