import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { waitFor } from '../support/wait-for.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('authentication failures', () => {
  it('pauses the queue after the first 401, sends no deletions with the bad key, and resumes once the key is fixed', async () => {
    h = await createHarness('auth', { seed: { instances: 1, tasksPerInstance: 0 } });
    const tasks = h.emulator.addTasks(
      h.instanceId,
      Array.from({ length: 40 }, () => ({ status: 'SUCCESS' as const })),
    );
    h.useCredentials(new Credentials(DEMO_CREDENTIALS.ak, 'a-wrong-secret-key'));
    await h.producer.enqueueMany(
      tasks.map((t) => ({ project_id: h!.projectId, instance_id: h!.instanceId, task_id: t.id })),
    );
    const worker = await h.startWorker({ concurrency: 16, probeIntervalMs: 300 });

    await waitFor(() => worker.circuit.isOpen(), 'the breaker to open');
    const state = await worker.circuit.read();
    expect(state).toMatchObject({
      open: true,
      action: 'auth_failed',
      error_code: 'APIGW.0301',
      http_status: 401,
    });
    expect(await h.queue.isPaused()).toBe(true);
    // The breaker is open (locally) before its record is written: wait for the record.
    await waitFor(() => h!.logs.records.some((r) => r.level === 60), 'the fatal record');
    const fatal = h.logs.records.filter((r) => r.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]!.msg).toContain('queue paused');

    // Concurrency 16, yet one probe stood for all of them: no DELETE went out with the bad key.
    expect(h.emulator.stats().authFailures).toBeLessThanOrEqual(3);
    expect(tasks.every((t) => h!.emulator.deleteRequestCount(t.id) === 0)).toBe(true);
    expect(await worker.deadLetters.count()).toBe(0);

    h.useCredentials(new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk));
    await waitFor(() => !worker.circuit.isOpen(), 'the probe to resume the queue', 10_000);
    expect(await worker.waitUntilIdle()).toBe('idle');
    expect(h.emulator.remainingTasks({ instanceId: h.instanceId })).toHaveLength(0);
    // The AK was never locked: fewer than 6 failures in a row.
    expect(h.emulator.stats().authFailures).toBeLessThanOrEqual(5);
    expect(await worker.deadLetters.count()).toBe(0);
  });

  it('pauses the queue when the endpoint is wrong (404 APIGW.0101) instead of dead-lettering every job', async () => {
    h = await createHarness('misconf', { seed: { instances: 1, tasksPerInstance: 0 } });
    const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
    h.emulator.scriptTask(task!.id, [{ status: 404, errorCode: 'APIGW.0101' }]);
    const worker = await h.startWorker({ probeIntervalMs: 60_000 });
    await h.producer.enqueue({ project_id: h.projectId, instance_id: h.instanceId, task_id: task!.id });
    await waitFor(() => worker.circuit.isOpen(), 'the breaker to open');
    expect(await worker.circuit.read()).toMatchObject({ action: 'misconfigured', error_code: 'APIGW.0101' });
    expect(await worker.deadLetters.count()).toBe(0);
    expect(await worker.waitUntilIdle()).toBe('paused');
    await worker.circuit.close();
    await waitFor(() => h!.emulator.getTask(task!.id) === undefined, 'the job to run after a manual resume');
  });
});
