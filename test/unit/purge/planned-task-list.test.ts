import { describe, expect, it } from 'vitest';
import { PlannedTaskList, type ListedTask } from '../../../src/purge/planned-task-list.js';
import { toPlannedTask } from '../../../src/purge/plan-purge.js';

const NAMES = ['EXTEND', 'BindEip', 'masterStandbySwapJob'];
const STATUSES = ['SUCCESS', 'FAILED'];

function listed(n: number): ListedTask {
  return {
    id: `task-${n}`,
    projectId: n % 7 === 0 ? 'proj-b' : 'proj-a',
    instanceId: `inst-${n % 13}`,
    name: NAMES[n % NAMES.length]!,
    status: STATUSES[n % STATUSES.length]!,
    createdAt: new Date(Date.UTC(2026, 0, 1) - n * 3_601_234),
  };
}

describe('PlannedTaskList', () => {
  it('gives back every task as toPlannedTask would, in order, across several growths', () => {
    const tasks = Array.from({ length: 5_000 }, (_, n) => listed(n));
    const list = new PlannedTaskList();
    for (const t of tasks) list.push(t);
    expect(list).toHaveLength(5_000);
    expect([...list]).toEqual(tasks.map(toPlannedTask));
    expect(list.get(4_321)).toEqual(toPlannedTask(tasks[4_321]!));
  });

  it('keeps created_at to the millisecond, also before 1970 and far ahead', () => {
    const dates = ['1969-07-20T20:17:40.123Z', '2026-11-27T10:15:00.001Z', '2999-12-31T23:59:59.999Z'];
    const list = new PlannedTaskList();
    for (const d of dates) list.push({ ...listed(1), createdAt: new Date(d) });
    expect([...list].map((t) => t.created_at)).toEqual(dates);
  });

  it('gives back any id exactly: long ones past several buffer growths, empty, latin1, wide, lone surrogates', () => {
    const odd = ['', 'é-ü-ÿ', '漢字', 'emoji-😀', 'lone-\ud800', 'x'.repeat(64)];
    const ids = Array.from({ length: 6_000 }, (_, n) =>
      n % 1_000 < odd.length ? odd[n % 1_000]! : `${n}-`.repeat(12),
    );
    const list = new PlannedTaskList();
    for (const [n, id] of ids.entries()) list.push({ ...listed(n), id });
    expect([...list].map((t) => t.task_id)).toEqual(ids);
  });

  it('is empty at first, and can be iterated again', () => {
    const list = new PlannedTaskList();
    expect([...list]).toEqual([]);
    list.push(listed(1));
    list.push(listed(2));
    expect([...list].map((t) => t.task_id)).toEqual(['task-1', 'task-2']);
    expect([...list].map((t) => t.task_id)).toEqual(['task-1', 'task-2']);
  });

  it('refuses an invalid date when pushed, and an index outside the list', () => {
    const list = new PlannedTaskList();
    expect(() => list.push({ ...listed(1), createdAt: new Date(Number.NaN) })).toThrow(RangeError);
    expect(list).toHaveLength(0);
    list.push(listed(1));
    expect(() => list.get(1)).toThrow(RangeError);
    expect(() => list.get(-1)).toThrow(RangeError);
  });
});
