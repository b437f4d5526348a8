import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The project the harness uses when the emulator has none seeded. */
const OWN_PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const OTHER_PROJECT = 'ffffffffffffffffffffffffffffffff';

describe('refusals of one job versus refusals of the credentials', () => {
  it('dead-letters the one job whose project the key cannot access and deletes all the others, never leaving the queue paused', async () => {
    // The key may act on its own project only: any other project answers 401 APIGW.0301.
    h = await createHarness('refuse-project', {
      seed: { instances: 1, tasksPerInstance: 0, projectId: OWN_PROJECT },
      credentials: { ...DEMO_CREDENTIALS, projects: [OWN_PROJECT] },
    });
    expect(h.projectId).toBe(OWN_PROJECT);
    const tasks = h.emulator.addTasks(
      h.instanceId,
      Array.from({ length: 60 }, () => ({ status: 'SUCCESS' as const })),
    );
    const good = tasks.map((t) => ({ project_id: h!.projectId, instance_id: h!.instanceId, task_id: t.id }));
    const bad = { project_id: OTHER_PROJECT, instance_id: h.instanceId, task_id: 'a'.repeat(32) };
    await h.producer.enqueueMany([...good.slice(0, 30), bad, ...good.slice(30)]);
    const worker = await h.startWorker({
      concurrency: 8,
      probeIntervalMs: 200,
      trusted: { projectId: h.projectId, region: 'cn-north-4' },
    });

    expect(await worker.waitUntilIdle()).toBe('idle');
    expect(h.emulator.remainingTasks({ instanceId: h.instanceId })).toHaveLength(0);
    const letters = await worker.deadLetters.list();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ reason: 'rejected', http_status: 401, error_code: 'APIGW.0301' });
    expect(letters[0]!.error_msg).toContain(`project ${OTHER_PROJECT}`);
    expect((letters[0]!.job_data as { task_id: string }).task_id).toBe(bad.task_id);
    expect(await h.queue.isPaused()).toBe(false);
    expect(worker.circuit.isOpen()).toBe(false);
    expect(h.logs.records.filter((r) => r.level === 60)).toHaveLength(0);
    // The key was never locked: every refusal was followed by an accepted probe.
    expect(h.emulator.stats().lockedAccessKeys).toEqual([]);
  });

  it('pauses on a 403 the whole credential gets (111403003), logs one fatal record, and the probe resumes once the DELETE is allowed', async () => {
    h = await createHarness('forbidden', { seed: { instances: 1, tasksPerInstance: 0 } });
    const tasks = h.emulator.addTasks(
      h.instanceId,
      Array.from({ length: 10 }, () => ({ status: 'SUCCESS' as const })),
    );
    const [first] = tasks;
    // Refused twice: the job's own DELETE and the first probe; the second probe is allowed.
    h.emulator.scriptTask(first!.id, [
      { status: 403, errorCode: '111403003' },
      { status: 403, errorCode: '111403003' },
    ]);
    await h.producer.enqueue({ project_id: h.projectId, instance_id: h.instanceId, task_id: first!.id });
    const worker = await h.startWorker({ concurrency: 1, probeIntervalMs: 200 });
    await h.producer.enqueueMany(
      tasks.slice(1).map((t) => ({ project_id: h!.projectId, instance_id: h!.instanceId, task_id: t.id })),
    );

    expect(await worker.waitUntilIdle()).toBe('paused');
    expect(await worker.circuit.read()).toMatchObject({
      action: 'forbidden',
      error_code: '111403003',
      task_id: first!.id,
    });
    expect(await h.queue.isPaused()).toBe(true);
    expect(await worker.deadLetters.count()).toBe(0);

    await expect.poll(() => worker.circuit.isOpen(), { timeout: 15_000 }).toBe(false);
    expect(await worker.waitUntilIdle()).toBe('idle');
    expect(h.emulator.remainingTasks({ instanceId: h.instanceId })).toHaveLength(0);
    expect(await worker.deadLetters.count()).toBe(0);
    const fatal = h.logs.records.filter((r) => r.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toContain('403');
  });

  it('dead-letters a 403 about one resource (a code other than the credential-wide ones) without pausing', async () => {
    h = await createHarness('forbidden-one', { seed: { instances: 1, tasksPerInstance: 0 } });
    const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
    h.emulator.scriptTask(task!.id, [{ status: 403, errorCode: 'DCS.4030' }]);
    const worker = await h.startWorker();
    await h.producer.enqueue({ project_id: h.projectId, instance_id: h.instanceId, task_id: task!.id });
    expect(await worker.waitUntilIdle()).toBe('idle');
    expect(await worker.deadLetters.list()).toMatchObject([{ reason: 'rejected', http_status: 403 }]);
    expect(await h.queue.isPaused()).toBe(false);
  });
});
