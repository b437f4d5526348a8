import { describe, expect, it } from 'vitest';
import { countRunOutcomes, describeSummary } from '../../../src/cli/purge-run.js';
import { PlannedTaskList } from '../../../src/purge/planned-task-list.js';
import { countOutcomes } from '../../../src/purge/run-report.js';
import { buildJobId } from '../../../src/queue/job-contract.js';
import type { JobEnd } from '../../../src/queue/run-tracker.js';

function selection(count: number): PlannedTaskList {
  const list = new PlannedTaskList();
  for (let n = 0; n < count; n++) {
    list.push({
      id: `task-${n}`,
      projectId: 'proj',
      instanceId: `inst-${n % 4}`,
      name: 'EXTEND',
      status: 'SUCCESS',
      createdAt: new Date('2026-09-01T00:00:00Z'),
    });
  }
  return list;
}

const skipped = [
  {
    project_id: 'proj',
    instance_id: 'inst-0',
    task_id: 'bad/id',
    name: 'EXTEND',
    status: 'SUCCESS',
    created_at: '2026-09-01T00:00:00.000Z',
    reason: 'invalid_id',
  },
];

describe('countRunOutcomes', () => {
  it('without followed jobs: every enqueued task is pending, skipped ones skipped', () => {
    expect(countRunOutcomes(selection(1_500), skipped, new Map())).toEqual({
      ...countOutcomes([]),
      pending: 1_500,
      skipped: 1,
    });
  });

  it("after --wait: each task counts as its job's end, pending when it has none", () => {
    const tasks = selection(10);
    const outcomes: JobEnd['outcome'][] = ['deleted', 'deleted', 'already_gone', 'dead_lettered', 'unknown'];
    const ends = new Map<string, JobEnd>(
      outcomes.map((outcome, i) => [buildJobId(tasks.get(i)), { outcome }]),
    );
    const counts = countRunOutcomes(tasks, skipped, ends);
    expect(counts).toEqual({
      deleted: 2,
      already_gone: 1,
      dead_lettered: 1,
      unknown: 1,
      pending: 5,
      skipped: 1,
    });
    expect(describeSummary('run-1', tasks.length + skipped.length, counts, 1_200, true)).toBe(
      'run run-1: selected 11, deleted 2, already gone 1, dead-lettered 1, skipped 1, unknown 1, still open 5; took 1.2s',
    );
  });
});
