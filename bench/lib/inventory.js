/**
 * The benchmark inventory: deterministic ids, so the orchestrator knows which tasks the emulator
 * holds without asking it. Every task is finished (SUCCESS), so every DELETE succeeds at once.
 */
import { DEMO_CREDENTIALS } from '../../dist/emulator/emulator.js';

export const PROJECT_ID = 'be0c0000000000000000000000000001';
export const CREDENTIALS = DEMO_CREDENTIALS;

const hex = (n, width) => n.toString(16).padStart(width, '0');

/** A lower-case UUID for instance `i`. */
export function instanceId(i) {
  return `${hex(i, 8)}-0000-4000-8000-${hex(i, 12)}`;
}

/** 32 hex characters for task `t` of instance `i`. */
export function taskId(i, t) {
  return `${hex(i, 8)}${hex(t, 24)}`;
}

/**
 * An emulator state file with `instances` x `tasksPerInstance` finished tasks, created two days ago;
 * instance numbers start at `firstInstance` (ids are unique across the emulator's projects).
 */
export function buildStateFile(instances, tasksPerInstance, projectId = PROJECT_ID, firstInstance = 0) {
  const createdAt = new Date(Date.now() - 2 * 86_400_000).toISOString();
  return {
    projects: [
      {
        project_id: projectId,
        instances: Array.from({ length: instances }, (_, i) => ({
          instance_id: instanceId(firstInstance + i),
          tasks: Array.from({ length: tasksPerInstance }, (_, t) => ({
            id: taskId(firstInstance + i, t),
            status: 'SUCCESS',
            created_at: createdAt,
          })),
        })),
      },
    ],
  };
}

/**
 * `count` tasks of a `tasksPerInstance` inventory, starting at task number `from` (tasks are
 * numbered instance by instance), as job inputs; `projectId` for another account's inventory.
 */
export function listTasks(tasksPerInstance, from, count, projectId = PROJECT_ID) {
  const tasks = [];
  for (let n = from; n < from + count; n++) {
    const i = Math.floor(n / tasksPerInstance);
    tasks.push({
      project_id: projectId,
      instance_id: instanceId(i),
      task_id: taskId(i, n % tasksPerInstance),
    });
  }
  return tasks;
}
