import { afterEach, describe, expect, it, vi } from 'vitest';
import { Job } from 'bullmq';
import { createHarness, FAST_POLICY, type Harness } from '../support/pipeline-harness.js';
import { waitFor } from '../support/wait-for.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('throttling', () => {
  it('pauses the queue after a 429 even while the per-second limiter counter is running', async () => {
    h = await createHarness('throttle-counter', { seed: { instances: 1, tasksPerInstance: 0 } });
    const harness = h;
    // A pause shorter than the limiter's one-second window: the window's TTL must not pass for a pause.
    const worker = await harness.startWorker({
      policy: { ...FAST_POLICY, throttleMinMs: 200, throttleMaxMs: 200 },
    });
    const rateLimit = vi.spyOn(worker.queue, 'rateLimit');
    const tasks = harness.emulator.addTasks(
      harness.instanceId,
      Array.from({ length: 6 }, () => ({ status: 'SUCCESS' as const })),
    );
    const throttled = tasks[5]!.id;
    harness.emulator.scriptTask(throttled, [{ status: 429, errorCode: 'APIGW.0308' }]);
    // One batch: the first fetches start the limiter counter, the 429 comes within its window.
    await harness.producer.enqueueMany(
      tasks.map((t) => ({ project_id: harness.projectId, instance_id: harness.instanceId, task_id: t.id })),
    );
    await waitFor(
      () => harness.emulator.remainingTasks({ instanceId: harness.instanceId }).length === 0,
      'every task deleted',
    );
    expect(harness.emulator.deleteRequestCount(throttled)).toBe(2);
    expect(rateLimit).toHaveBeenCalledWith(200);
  });

  it('does not cut a Retry-After pause short when a later 429 asks for less', async () => {
    h = await createHarness('throttle-longest', { seed: { instances: 1, tasksPerInstance: 0 } });
    const harness = h;
    const worker = await harness.startWorker({ concurrency: 4 });
    const rateLimit = vi.spyOn(worker.queue, 'rateLimit');
    const [long, short, other] = harness.emulator.addTasks(
      harness.instanceId,
      Array.from({ length: 3 }, () => ({ status: 'SUCCESS' as const })),
    );
    harness.emulator.scriptTask(long!.id, [{ status: 429, errorCode: 'APIGW.0308', retryAfter: 2 }]);
    // The second 429 comes after a few quick retries, while the first pause runs.
    harness.emulator.scriptTask(short!.id, [{ status: 503 }, { status: 429, errorCode: 'APIGW.0308' }]);
    const ref = (id: string) => ({
      project_id: harness.projectId,
      instance_id: harness.instanceId,
      task_id: id,
    });
    await harness.producer.enqueueMany([ref(long!.id), ref(short!.id)]);
    await waitFor(
      () =>
        harness.emulator.deleteRequestCount(short!.id) >= 2 &&
        harness.emulator.deleteRequestCount(long!.id) >= 1,
      'both 429s',
    );
    const pausedAt = Date.now();
    const { job_id } = await harness.producer.enqueue(ref(other!.id));
    const job = await waitFor(async () => {
      const j = await Job.fromId(harness.queue, job_id);
      return j && (await j.isCompleted()) ? j : undefined;
    }, 'the job enqueued during the pause');
    // The 2 s pause held: the short 429 (50-100 ms) did not replace it.
    expect(job.processedOn! - pausedAt).toBeGreaterThanOrEqual(1_500);
    expect(rateLimit.mock.calls.map(([ms]) => ms)).toContain(2_000);
  });
});
