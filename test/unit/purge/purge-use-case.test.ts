import { describe, expect, it } from 'vitest';
import type { ListedTask, PlannedTasks } from '../../../src/purge/plan-purge.js';
import { parsePurgeFilters } from '../../../src/purge/purge-filters.js';
import {
  executePurge,
  executeStoredPurge,
  type PurgeEnqueueOptions,
  type PurgeRequest,
  type PurgeUseCaseDeps,
} from '../../../src/purge/purge-use-case.js';
import { parsePurgeSpec, type PurgeSpec } from '../../../src/purge/select-purge.js';
import type { TaskLister } from '../../../src/purge/stream-inventory.js';

const NOW = new Date('2026-11-27T10:15:00.000Z');
const DAY = 86_400_000;

/** An in-memory DCS inventory: `old` finished tasks older than 30 days on each instance. */
function inventory(instances: string[], old: number) {
  const signals: (AbortSignal | undefined)[] = [];
  const lister: TaskLister = {
    async *listInstances(_projectId, options) {
      signals.push(options?.signal);
      await Promise.resolve(); // a page arrives later, as from DCS
      for (const instanceId of instances) yield { instanceId };
    },
    async *listBackgroundTasks(ref, options) {
      signals.push(options?.signal);
      await Promise.resolve();
      for (let i = 0; i < old; i++) {
        yield task(ref.instanceId, `t${i}`, 40 + i);
      }
      yield task(ref.instanceId, 'recent', 1);
    },
  };
  return { lister, signals };
}

function task(instanceId: string, id: string, ageDays: number): ListedTask {
  return {
    id,
    projectId: 'proj',
    instanceId,
    name: 'EXTEND',
    status: 'SUCCESS',
    createdAt: new Date(NOW.getTime() - ageDays * DAY),
  };
}

/** Records every enqueue and answers as a queue holding none of the tasks would. */
function recordingEnqueue() {
  const calls: { tasks: PlannedTasks; options: PurgeEnqueueOptions; ids: string[] }[] = [];
  const enqueue = (tasks: PlannedTasks, options: PurgeEnqueueOptions) => {
    const ids = [...tasks].map((t) => `${t.instance_id}/${t.task_id}`);
    calls.push({ tasks, options, ids });
    return Promise.resolve({ enqueued: ids.length, duplicates: 0 });
  };
  return { calls, enqueue };
}

function spec(max: number): PurgeSpec {
  return parsePurgeSpec({
    scope: { project_id: 'proj', region: 'ap-southeast-3', all_instances: true },
    filters: { ...parsePurgeFilters({ olderThan: '30d' }), older_than: '30d' },
    max,
  });
}

function setup(old: number) {
  const store = inventory(['inst-a', 'inst-b'], old);
  const recorder = recordingEnqueue();
  const deps: PurgeUseCaseDeps<{ enqueued: number; duplicates: number }> = {
    lister: store.lister,
    enqueue: recorder.enqueue,
    now: () => NOW,
    randomHex: () => 'AB12CD',
  };
  return { store, recorder, deps };
}

const run = (max: number, extra: Partial<PurgeRequest> = {}): PurgeRequest => ({
  spec: spec(max),
  intent: 'run',
  source: 'test',
  reason: 'unit test',
  ...extra,
});

describe('executePurge', () => {
  it('enqueues the selection itself (no copy) under one run id, with the labels and the region', async () => {
    const { recorder, deps } = setup(2);
    const outcome = await executePurge(deps, run(10));
    expect(outcome.status).toBe('enqueued');
    expect(outcome.runId).toBe('purge-20261127T101500Z-ab12cd');
    expect(recorder.calls).toHaveLength(1);
    const [call] = recorder.calls;
    expect(call!.tasks).toBe(outcome.listing.selected);
    expect(call!.ids).toEqual(['inst-a/t0', 'inst-a/t1', 'inst-b/t0', 'inst-b/t1']);
    expect(call!.options).toEqual({
      runId: 'purge-20261127T101500Z-ab12cd',
      source: 'test',
      reason: 'unit test',
      region: 'ap-southeast-3',
    });
    expect(outcome.status === 'enqueued' && outcome.enqueued).toEqual({ enqueued: 4, duplicates: 0 });
    expect(outcome.listing.counts).toMatchObject({ listed: 6, matched: 4 });
  });

  it('stops at the guard: nothing enqueued, nobody asked, the matches counted', async () => {
    const { recorder, deps } = setup(3);
    const asked: number[] = [];
    const outcome = await executePurge(
      deps,
      run(5, { approve: (l) => Promise.resolve((asked.push(l.selected.length), true)) }),
    );
    expect(outcome.status).toBe('guard_stopped');
    expect(outcome.listing.counts.matched).toBe(6);
    expect(outcome.listing.selected.length).toBe(0);
    expect(recorder.calls).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('a plan (dry run) never enqueues nor asks, and still has its run id', async () => {
    const { recorder, deps } = setup(2);
    let asked = false;
    const outcome = await executePurge(
      deps,
      run(10, { intent: 'plan', approve: () => Promise.resolve((asked = true)) }),
    );
    expect(outcome.status).toBe('planned');
    expect(outcome.listing.selected.length).toBe(4);
    expect(outcome.runId).toBe('purge-20261127T101500Z-ab12cd');
    expect(recorder.calls).toEqual([]);
    expect(asked).toBe(false);
  });

  it('tells the listing first, then asks; a refusal enqueues nothing', async () => {
    const { recorder, deps } = setup(1);
    const events: string[] = [];
    const outcome = await executePurge(
      deps,
      run(10, {
        onListed: (l) => events.push(`listed ${l.counts.matched}`),
        approve: (l) => Promise.resolve((events.push(`asked ${l.selected.length}`), false)),
      }),
    );
    expect(outcome.status).toBe('declined');
    expect(events).toEqual(['listed 2', 'asked 2']);
    expect(recorder.calls).toEqual([]);
  });

  it("keeps the caller's run id (a schedule firing's) and hands the abort signal to every list call", async () => {
    const { store, recorder, deps } = setup(1);
    const controller = new AbortController();
    const outcome = await executePurge(
      deps,
      run(10, { runId: 'sched-nightly-20261127T101500Z-0a1b2c', signal: controller.signal }),
    );
    expect(outcome.runId).toBe('sched-nightly-20261127T101500Z-0a1b2c');
    expect(recorder.calls[0]!.options.runId).toBe('sched-nightly-20261127T101500Z-0a1b2c');
    expect(store.signals).toHaveLength(3);
    expect(store.signals.every((s) => s === controller.signal)).toBe(true);
  });

  it('a listing failure enqueues nothing and reaches the caller', async () => {
    const { recorder, deps } = setup(1);
    const failing: TaskLister = {
      ...deps.lister,
      // eslint-disable-next-line require-yield
      async *listBackgroundTasks() {
        await Promise.resolve();
        throw new Error('list call failed');
      },
    };
    await expect(executePurge({ ...deps, lister: failing }, run(10))).rejects.toThrow('list call failed');
    expect(recorder.calls).toEqual([]);
  });
});

describe('executeStoredPurge (a reviewed plan)', () => {
  const planned = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      project_id: 'proj',
      instance_id: 'inst-a',
      task_id: `t${i}`,
      name: 'EXTEND',
      status: 'SUCCESS',
      created_at: NOW.toISOString(),
    }));

  it("enqueues exactly the plan's tasks under the plan's run id", async () => {
    const { recorder, deps } = setup(0);
    const tasks = planned(3);
    const outcome = await executeStoredPurge(deps, {
      tasks,
      skipped: [],
      max: 3,
      region: undefined,
      source: 'purge',
      reason: 'purge apply',
      runId: 'purge-20261126T080000Z-00ff00',
    });
    expect(outcome.status).toBe('enqueued');
    expect(recorder.calls).toHaveLength(1);
    expect(recorder.calls[0]!.tasks).toBe(tasks);
    expect(recorder.calls[0]!.options).toEqual({
      runId: 'purge-20261126T080000Z-00ff00',
      source: 'purge',
      reason: 'purge apply',
      region: undefined,
    });
  });

  it('refuses a plan over its guard without asking, and gives a plan without a run id a new one', async () => {
    const { recorder, deps } = setup(0);
    let asked = false;
    const base = { skipped: [], max: 2, region: undefined, source: 'purge', reason: 'purge apply' };
    const approve = () => Promise.resolve((asked = true));
    const stopped = await executeStoredPurge(deps, { ...base, tasks: planned(3), approve });
    expect(stopped.status).toBe('guard_stopped');
    expect(stopped.runId).toBe('purge-20261127T101500Z-ab12cd');
    expect(recorder.calls).toEqual([]);
    expect(asked).toBe(false);
  });
});
