import { afterEach, describe, expect, it } from 'vitest';
import { Job } from 'bullmq';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { startCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function workerEnv(harness: Harness): Record<string, string> {
  return {
    REDIS_URL,
    CLEANUP_PREFIX: harness.prefix,
    CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
    CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
    DCS_ENDPOINT: harness.emulator.url,
    LOG_LEVEL: 'info',
  };
}

async function seedAndEnqueue(harness: Harness, count: number): Promise<string[]> {
  const tasks = harness.emulator.addTasks(
    harness.instanceId,
    Array.from({ length: count }, () => ({ status: 'SUCCESS' as const })),
  );
  await harness.producer.enqueueMany(
    tasks.map((t) => ({ project_id: harness.projectId, instance_id: harness.instanceId, task_id: t.id })),
  );
  return tasks.map((t) => t.id);
}

describe('worker processes', () => {
  it('loses nothing when a worker is killed with SIGKILL mid-run: another worker finishes every job', async () => {
    h = await createHarness('kill9', {
      seed: { instances: 1, tasksPerInstance: 0 },
      faults: { latencyMs: 150 },
    });
    const ids = await seedAndEnqueue(h, 120);
    const env = workerEnv(h);
    const first = startCli(
      ['worker', '--concurrency', '16', '--rate-limit', '0', '--lock-duration-ms', '2000'],
      env,
    );
    await waitFor(
      () => h!.emulator.stats().deletions.count >= 20,
      'the first worker to delete some tasks',
      30_000,
      100,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const active = await h.queue.getActiveCount();
    expect(active).toBeGreaterThan(0);

    const second = startCli(
      [
        'worker',
        '--concurrency',
        '16',
        '--rate-limit',
        '0',
        '--exit-when-idle',
        '--lock-duration-ms',
        '2000',
      ],
      env,
    );
    expect(await second.exited).toBe(0);
    expect(h.emulator.remainingTasks({ instanceId: h.instanceId })).toHaveLength(0);
    const counts = await h.queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed');
    expect(counts).toMatchObject({ wait: 0, active: 0, delayed: 0, failed: 0, completed: ids.length });
    // Jobs cut off by the kill ran again: their second DELETE found the task gone (already_gone).
    const outcomes = second
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"outcome"'))
      .map((l) => JSON.parse(l).outcome as string);
    expect(outcomes.every((o) => o === 'deleted' || o === 'already_gone')).toBe(true);
  });

  it('on SIGTERM stops fetching, lets in-flight requests finish, exits 0, and leaves the rest queued', async () => {
    h = await createHarness('sigterm', {
      seed: { instances: 1, tasksPerInstance: 0 },
      faults: { latencyMs: 400 },
    });
    const ids = await seedAndEnqueue(h, 40);
    const env = workerEnv(h);
    const worker = startCli(['worker', '--concurrency', '4', '--rate-limit', '0'], env);
    await waitFor(async () => (await h!.queue.getActiveCount()) >= 4, 'four jobs in flight', 20_000);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.stdout()).toContain('worker stopped');
    const counts = await h.queue.getJobCounts('wait', 'active', 'completed', 'failed');
    expect(counts.active).toBe(0);
    expect(counts.failed).toBe(0);
    expect(counts.completed).toBeGreaterThanOrEqual(4);
    expect((counts.completed ?? 0) + (counts.wait ?? 0)).toBe(ids.length);
    for (const id of ids.slice(0, 2))
      expect(await Job.fromId(h.queue, `del_${h.projectId}_${h.instanceId}_${id}`)).toBeDefined();

    const rest = startCli(['worker', '--concurrency', '16', '--rate-limit', '0', '--exit-when-idle'], env);
    expect(await rest.exited).toBe(0);
    expect(h.emulator.remainingTasks({ instanceId: h.instanceId })).toHaveLength(0);
  });

  it('on SIGTERM aborts requests that outlive the shutdown timeout and puts their jobs back', async () => {
    h = await createHarness('abort', {
      seed: { instances: 1, tasksPerInstance: 0 },
      faults: { hangRate: 1 },
    });
    await seedAndEnqueue(h, 3);
    const worker = startCli(
      ['worker', '--concurrency', '3', '--rate-limit', '0', '--shutdown-timeout', '1'],
      workerEnv(h),
    );
    await waitFor(async () => (await h!.queue.getActiveCount()) === 3, 'three hung requests', 20_000);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const counts = await h.queue.getJobCounts('wait', 'active', 'completed', 'failed');
    expect(counts).toMatchObject({ wait: 3, active: 0, completed: 0, failed: 0 });
  });
});
