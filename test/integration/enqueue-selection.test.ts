/** enqueueSelection against a real Redis under a unique prefix: a purge's selection into the queue. */
import { describe, expect, it } from 'vitest';
import { PlannedTaskList, type ListedTask } from '../../src/purge/planned-task-list.js';
import { enqueueSelection } from '../../src/queue/enqueue-selection.js';
import { buildJobId } from '../../src/queue/job-contract.js';
import { useProducer } from '../support/producer-fixture.js';

const t = useProducer('enqueue-selection', 7);
const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

function selection(from: number, count: number, overrides: Partial<ListedTask> = {}): PlannedTaskList {
  const list = new PlannedTaskList();
  for (let n = from; n < from + count; n++) {
    list.push({
      id: `ff8080818f1e2d3c018f1e4b5a6c${String(n).padStart(4, '0')}`,
      projectId: PROJECT,
      instanceId: `3f8c2a1e-6b7d-4c5e-9a0b-1c2d3e4f5a6${n % 3}`,
      name: 'EXTEND',
      status: 'SUCCESS',
      createdAt: new Date('2026-09-01T00:00:00Z'),
      ...overrides,
    });
  }
  return list;
}

describe('enqueueSelection', () => {
  it('enqueues every task of a selection in chunks, labelled with the run, in the region given', async () => {
    const tasks = selection(0, 30);
    const result = await enqueueSelection(t.producer, tasks, {
      runId: 'purge-1',
      source: 'purge',
      reason: 'purge',
      region: 'cn-north-4',
    });
    expect(result).toEqual({ enqueued: 30, duplicates: 0, duplicateIds: new Set() });
    const last = tasks.get(29);
    const job = await t.queue.getJob(buildJobId(last));
    expect(job!.data).toMatchObject({
      project_id: PROJECT,
      instance_id: last.instance_id,
      task_id: last.task_id,
      region: 'cn-north-4',
      run_id: 'purge-1',
      source: 'purge',
    });
  });

  it('counts tasks already queued as duplicates, and names them only when asked', async () => {
    const counted = await enqueueSelection(t.producer, selection(25, 10), {
      runId: 'purge-2',
      source: 'purge',
    });
    expect(counted).toEqual({ enqueued: 5, duplicates: 5, duplicateIds: new Set() });
    const named = await enqueueSelection(t.producer, selection(20, 10), {
      runId: 'purge-3',
      source: 'purge',
      keepDuplicateIds: true,
    });
    expect(named.enqueued).toBe(0);
    expect(named.duplicateIds).toEqual(new Set([...selection(20, 10)].map(buildJobId)));
  });

  it('checks every task before the first is enqueued: one bad task, nothing enqueued', async () => {
    const before = await t.queue.count();
    const tasks = [...selection(100, 20), ...selection(120, 1, { id: 'not/an/id' })];
    await expect(
      enqueueSelection(t.producer, tasks, { runId: 'purge-4', source: 'purge' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'tasks[20].task_id' });
    await expect(
      enqueueSelection(t.producer, selection(100, 20), {
        runId: 'purge-5',
        source: 'purge',
        region: 'nowhere',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'tasks[0].region' });
    expect(await t.queue.count()).toBe(before);
  });
});
