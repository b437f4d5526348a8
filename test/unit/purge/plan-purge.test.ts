import { describe, expect, it } from 'vitest';
import { planPurge, type ListedTask } from '../../../src/purge/plan-purge.js';
import { parsePurgeFilters } from '../../../src/purge/purge-filters.js';
import { isValidId } from '../../../src/dcs/ids.js';

const NOW = new Date('2026-11-27T10:15:00.000Z');
const DAY = 86_400_000;

function listed(n: number, overrides: Partial<ListedTask> = {}): ListedTask {
  return {
    id: `task${String(n).padStart(4, '0')}`,
    projectId: 'proj',
    instanceId: `inst-${n % 3}`,
    name: 'EXTEND',
    status: 'SUCCESS',
    createdAt: new Date(NOW.getTime() - (n + 1) * DAY),
    ...overrides,
  };
}

const filters = parsePurgeFilters({ olderThan: '10d' });

describe('planPurge', () => {
  it('selects exactly the matching final tasks, in listing order, with their attributes', async () => {
    const tasks = [
      listed(20),
      listed(2),
      listed(30, { status: 'EXECUTING' }),
      listed(40, { status: 'FAILED' }),
    ];
    const plan = await planPurge(tasks, { filters, max: 10, now: NOW });
    expect([...plan.selected].map((t) => t.task_id)).toEqual(['task0020', 'task0040']);
    expect(plan.selected.get(1)).toEqual({
      project_id: 'proj',
      instance_id: 'inst-1',
      task_id: 'task0040',
      name: 'EXTEND',
      status: 'FAILED',
      created_at: new Date(NOW.getTime() - 41 * DAY).toISOString(),
    });
    expect(plan.counts).toEqual({ listed: 4, matched: 2, unfinished: 1, skipped: 0 });
    expect(plan.guard).toEqual({ max: 10, stopped: false });
  });

  it('lets exactly --max matches through', async () => {
    const tasks = Array.from({ length: 5 }, (_, i) => listed(20 + i));
    const plan = await planPurge(tasks, { filters, max: 5, now: NOW });
    expect(plan.guard.stopped).toBe(false);
    expect(plan.selected).toHaveLength(5);
  });

  it('stops at --max + 1: keeps nothing to enqueue but counts every match, by instance', async () => {
    const tasks = Array.from({ length: 12 }, (_, i) => listed(20 + i));
    const plan = await planPurge(tasks, { filters, max: 5, now: NOW });
    expect(plan.guard).toEqual({ max: 5, stopped: true });
    expect(plan.selected).toHaveLength(0);
    expect(plan.counts.matched).toBe(12);
    expect(plan.matchedByInstance).toEqual({ 'inst-0': 4, 'inst-1': 4, 'inst-2': 4 });
  });

  it('skips a matching task whose id a job cannot carry, and counts it', async () => {
    const tasks = [listed(20), listed(21, { id: 'bad/id' })];
    const plan = await planPurge(tasks, { filters, max: 10, now: NOW, isValidId });
    expect([...plan.selected].map((t) => t.task_id)).toEqual(['task0020']);
    expect(plan.skipped).toEqual([expect.objectContaining({ task_id: 'bad/id', reason: 'invalid_id' })]);
    expect(plan.counts.skipped).toBe(1);
  });

  it('reads an async stream', async () => {
    async function* stream() {
      for (let i = 0; i < 3; i++) {
        await Promise.resolve();
        yield listed(20 + i);
      }
    }
    const plan = await planPurge(stream(), { filters, max: 10, now: NOW });
    expect(plan.selected).toHaveLength(3);
  });
});
