import { describe, expect, it } from 'vitest';
import { createEmulatorState } from '../../../src/emulator/emulator-state.js';
import {
  parseEmulatorInstance,
  parseEmulatorTask,
  type TaskStatus,
} from '../../../src/emulator/state-file.js';

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const INSTANCE = '3f8c2a1e-6b7d-4c5e-9a0b-1c2d3e4f5a6b';

function task(n: number, createdAt: string, status: TaskStatus = 'SUCCESS') {
  return parseEmulatorTask({ id: n.toString(16).padStart(32, '0'), status, created_at: createdAt });
}

function stateWith(...tasks: ReturnType<typeof task>[]) {
  const state = createEmulatorState();
  state.addInstance(PROJECT, parseEmulatorInstance({ instance_id: INSTANCE }));
  for (const t of tasks) state.addTask(INSTANCE, t);
  return state;
}

describe('createEmulatorState', () => {
  it('lists tasks newest first, ties broken by id, and keeps the order after a deletion', () => {
    const state = stateWith(
      task(1, '2025-01-01T00:00:00.000Z'),
      task(2, '2025-01-03T00:00:00.000Z'),
      task(3, '2025-01-02T00:00:00.000Z'),
      task(4, '2025-01-02T00:00:00.000Z'),
    );
    const ids = () =>
      state.listTasks(state.findInstance(INSTANCE)!, {}).map((t) => Number.parseInt(t.task.id, 16));
    expect(ids()).toEqual([2, 4, 3, 1]);
    state.deleteTask(task(4, '2025-01-02T00:00:00.000Z').id);
    expect(ids()).toEqual([2, 3, 1]);
  });

  it('filters on created_at within an inclusive window', () => {
    const state = stateWith(task(1, '2025-01-01T00:00:00.000Z'), task(2, '2025-01-02T00:00:00.000Z'));
    const record = state.findInstance(INSTANCE)!;
    const startMs = Date.parse('2025-01-02T00:00:00.000Z');
    expect(state.listTasks(record, { startMs }).map((t) => t.task.id)).toEqual([
      task(2, '2025-01-02T00:00:00Z').id,
    ]);
    expect(state.listTasks(record, { endMs: startMs - 1 })).toHaveLength(1);
  });

  it('finds a task by id in O(1) and keeps the counts by status in step', () => {
    const state = stateWith(task(1, '2025-01-01T00:00:00Z'), task(2, '2025-01-01T00:00:00Z', 'EXECUTING'));
    expect(state.findTask(task(2, '2025-01-01T00:00:00Z').id)?.instanceId).toBe(INSTANCE);
    expect(state.countByStatus()).toMatchObject({ SUCCESS: 1, EXECUTING: 1 });
    expect(state.deleteTask(task(1, '2025-01-01T00:00:00Z').id)).toBe(true);
    expect(state.deleteTask(task(1, '2025-01-01T00:00:00Z').id)).toBe(false);
    expect(state.countByStatus()).toMatchObject({ SUCCESS: 0, EXECUTING: 1 });
    expect(state.listRemaining({ status: 'EXECUTING' }).map((t) => t.project_id)).toEqual([PROJECT]);
  });

  it('refuses duplicate ids and tasks of an unknown instance', () => {
    const state = stateWith(task(1, '2025-01-01T00:00:00Z'));
    expect(() => state.addTask(INSTANCE, task(1, '2025-01-01T00:00:00Z'))).toThrow(/duplicate task id/);
    expect(() => state.addInstance(PROJECT, parseEmulatorInstance({ instance_id: INSTANCE }))).toThrow(
      /duplicate instance/,
    );
    expect(() =>
      state.addTask('11111111-2222-4333-8444-555555555555', task(2, '2025-01-01T00:00:00Z')),
    ).toThrow(/no instance/);
  });

  it('round-trips through its state file', () => {
    const state = stateWith(task(1, '2025-01-01T00:00:00Z'), task(2, '2025-01-01T00:00:00Z', 'FAILED'));
    const copy = createEmulatorState(state.toStateFile());
    expect(copy.toStateFile()).toEqual(state.toStateFile());
  });
});
