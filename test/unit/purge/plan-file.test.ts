import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../../src/cli/write-json-file.js';
import {
  buildPlanFile,
  buildStreamedPlanFile,
  checkPlanFreshness,
  parsePlanFile,
  splitPlanTasks,
  type PlanFile,
  type PlanMetadata,
} from '../../../src/purge/plan-file.js';
import { planPurge, type ListedTask, type PurgeSelection } from '../../../src/purge/plan-purge.js';
import { parsePurgeFilters } from '../../../src/purge/purge-filters.js';
import { buildRunId } from '../../../src/purge/run-id.js';
import { isCleanupError } from '../../../src/errors.js';

const NOW = new Date('2026-11-27T10:15:00.000Z');
const HOUR = 3_600_000;
const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

async function samplePlan(): Promise<PlanFile> {
  const { selection, meta } = await sampleSelection();
  return buildPlanFile(selection, meta);
}

async function sampleSelection(): Promise<{ selection: PurgeSelection; meta: PlanMetadata }> {
  const tasks: ListedTask[] = [
    {
      id: 'a1',
      projectId: PROJECT,
      instanceId: 'i-1',
      name: 'EXTEND',
      status: 'SUCCESS',
      createdAt: new Date('2026-09-01T00:00:00Z'),
    },
    {
      id: 'a2',
      projectId: PROJECT,
      instanceId: 'i-2',
      name: 'BindEip',
      status: 'FAILED',
      createdAt: new Date('2026-09-02T00:00:00Z'),
    },
  ];
  const filters = parsePurgeFilters({ olderThan: '30d' });
  const selection = await planPurge(tasks, { filters, max: 100, now: NOW });
  const meta: PlanMetadata = {
    runId: buildRunId('purge', NOW, 'ab12cd'),
    createdAt: NOW,
    createdBy: 'ops@host',
    projectId: PROJECT,
    region: 'cn-north-4',
    filters,
    scope: { all_instances: true },
  };
  return { selection, meta };
}

function errorOf(fn: () => unknown): Error & { code?: string; field?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('plan files', () => {
  it('round-trips through JSON with every selected task, the filters and who made it', async () => {
    const plan = await samplePlan();
    const back = parsePlanFile(JSON.stringify(plan));
    expect(back).toEqual(plan);
    expect(back).toMatchObject({
      version: 1,
      run_id: 'purge-20261127T101500Z-ab12cd',
      created_at: NOW.toISOString(),
      created_by: 'ops@host',
      project_id: PROJECT,
      region: 'cn-north-4',
      filters: { older_than: '30d', statuses: ['SUCCESS', 'FAILED'], all_instances: true },
      max: 100,
      counts: { listed: 2, matched: 2, selected: 2 },
    });
    expect(back.selected.map((t) => t.task_id)).toEqual(['a1', 'a2']);
  });

  it('written from its streamed form, is the same file as the plan written whole', async () => {
    const { selection, meta } = await sampleSelection();
    const streamed = [...jsonChunks(buildStreamedPlanFile(selection, meta))].join('');
    expect(streamed).toBe(JSON.stringify(buildPlanFile(selection, meta), null, 2));
    expect(parsePlanFile(streamed).selected).toHaveLength(2);
  });

  it('names the bad field of a malformed plan', async () => {
    const plan = (await samplePlan()) as unknown as { selected: Record<string, unknown>[] };
    plan.selected[1]!.task_id = 'has space';
    const err = errorOf(() => parsePlanFile(JSON.stringify(plan), 'plan.json'));
    expect(isCleanupError(err, 'INVALID_PLAN')).toBe(true);
    expect(err.message).toContain('selected[1].task_id');
    expect(err.message).toContain('plan.json');
  });

  it('refuses another version, and text that is not JSON', async () => {
    const plan = { ...(await samplePlan()), version: 2 };
    expect(errorOf(() => parsePlanFile(JSON.stringify(plan))).message).toMatch(/version: must be 1/);
    expect(
      isCleanupError(
        errorOf(() => parsePlanFile('{nope')),
        'INVALID_PLAN',
      ),
    ).toBe(true);
  });

  it('refuses a plan older than the limit unless stale plans are allowed', async () => {
    const plan = await samplePlan();
    const later = new Date(NOW.getTime() + 25 * HOUR);
    expect(() =>
      checkPlanFreshness(plan, new Date(NOW.getTime() + 23 * HOUR), 24 * HOUR, false),
    ).not.toThrow();
    expect(errorOf(() => checkPlanFreshness(plan, later, 24 * HOUR, false)).message).toMatch(/--allow-stale/);
    expect(() => checkPlanFreshness(plan, later, 24 * HOUR, true)).not.toThrow();
    expect(
      errorOf(() => checkPlanFreshness(plan, new Date(NOW.getTime() - HOUR), 24 * HOUR, true)).message,
    ).toMatch(/future/);
  });

  it('never lets a task whose status in the plan is not final through, even hand-edited', async () => {
    const plan = await samplePlan();
    plan.selected.push({ ...plan.selected[0]!, task_id: 'a3', status: 'EXECUTING' });
    plan.selected.push({ ...plan.selected[0]! });
    const { tasks, skipped } = splitPlanTasks(parsePlanFile(JSON.stringify(plan)));
    expect(tasks.map((t) => t.task_id)).toEqual(['a1', 'a2']);
    expect(skipped).toEqual([expect.objectContaining({ task_id: 'a3', reason: 'not_final' })]);
  });
});

describe('buildRunId', () => {
  it('is sortable by time and ends in the random suffix', () => {
    expect(buildRunId('purge', NOW, 'AB12CDEF')).toBe('purge-20261127T101500Z-ab12cd');
  });
});
