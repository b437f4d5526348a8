/**
 * The emulator's in-memory inventory: projects, instances and tasks, indexed so that a DELETE finds
 * its task in O(1). Instance and task ids are unique across the whole emulator (as they are at Huawei).
 * Lists are served newest first (`created_at` descending, then id descending), which is the order the
 * real service shows; the sorted view of an instance is cached until its tasks change.
 */
import { CleanupError } from '../errors.js';
import {
  TASK_STATUSES,
  type EmulatorInstance,
  type EmulatorStateFile,
  type EmulatorTask,
  type TaskStatus,
} from './state-file.js';

export interface TaskRecord {
  task: EmulatorTask;
  createdAtMs: number;
  projectId: string;
  instanceId: string;
}

export interface InstanceRecord {
  instance: EmulatorInstance;
  projectId: string;
  tasks: Map<string, TaskRecord>;
  /** Newest first; undefined when a task was added or removed since the last list. */
  sorted: TaskRecord[] | undefined;
}

/** Inclusive bounds on `created_at`, in ms since the epoch. */
export interface TimeWindow {
  startMs?: number | undefined;
  endMs?: number | undefined;
}

/** A remaining task with where it lives, as the inspection API lists it. */
export interface RemainingTask {
  project_id: string;
  instance_id: string;
  id: string;
  name: string;
  status: TaskStatus;
  created_at: string;
}

export interface RemainingTaskFilter {
  projectId?: string | undefined;
  instanceId?: string | undefined;
  status?: TaskStatus | undefined;
}

export interface EmulatorState {
  hasProject(projectId: string): boolean;
  addProject(projectId: string): void;
  addInstance(projectId: string, instance: EmulatorInstance): void;
  addTask(instanceId: string, task: EmulatorTask): void;
  findInstance(instanceId: string): InstanceRecord | undefined;
  findTask(taskId: string): TaskRecord | undefined;
  deleteTask(taskId: string): boolean;
  listInstances(projectId: string): EmulatorInstance[];
  /** The instance's tasks created inside `window`, newest first. */
  listTasks(record: InstanceRecord, window: TimeWindow): TaskRecord[];
  countByStatus(): Record<TaskStatus, number>;
  listRemaining(filter?: RemainingTaskFilter): RemainingTask[];
  toStateFile(): EmulatorStateFile;
}

/** A store holding `file`'s inventory (an empty one when none is given). */
export function createEmulatorState(file?: EmulatorStateFile): EmulatorState {
  const projects = new Map<string, Map<string, InstanceRecord>>();
  const instances = new Map<string, InstanceRecord>();
  const tasks = new Map<string, TaskRecord>();
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;

  const state: EmulatorState = {
    hasProject: (projectId) => projects.has(projectId),
    addProject: (projectId) => {
      if (!projects.has(projectId)) projects.set(projectId, new Map());
    },
    addInstance: (projectId, instance) => {
      if (instances.has(instance.instance_id)) throw duplicate('instance', instance.instance_id);
      state.addProject(projectId);
      const record: InstanceRecord = { instance, projectId, tasks: new Map(), sorted: undefined };
      projects.get(projectId)?.set(instance.instance_id, record);
      instances.set(instance.instance_id, record);
    },
    addTask: (instanceId, task) => {
      const instance = instances.get(instanceId);
      if (instance === undefined) {
        throw new CleanupError('NOT_FOUND', `no instance ${instanceId} in the emulator`, {
          field: 'instance_id',
        });
      }
      if (tasks.has(task.id)) throw duplicate('task', task.id);
      const record = {
        task,
        createdAtMs: Date.parse(task.created_at),
        projectId: instance.projectId,
        instanceId,
      };
      instance.tasks.set(task.id, record);
      instance.sorted = undefined;
      tasks.set(task.id, record);
      counts[task.status] += 1;
    },
    findInstance: (instanceId) => instances.get(instanceId),
    findTask: (taskId) => tasks.get(taskId),
    deleteTask: (taskId) => {
      const record = tasks.get(taskId);
      if (record === undefined) return false;
      tasks.delete(taskId);
      const instance = instances.get(record.instanceId);
      instance?.tasks.delete(taskId);
      if (instance) instance.sorted = undefined;
      counts[record.task.status] -= 1;
      return true;
    },
    listInstances: (projectId) => [...(projects.get(projectId)?.values() ?? [])].map((r) => r.instance),
    listTasks: (record, window) => {
      record.sorted ??= [...record.tasks.values()].sort(newestFirst);
      const { startMs, endMs } = window;
      if (startMs === undefined && endMs === undefined) return record.sorted;
      return record.sorted.filter(
        (t) =>
          (startMs === undefined || t.createdAtMs >= startMs) &&
          (endMs === undefined || t.createdAtMs <= endMs),
      );
    },
    countByStatus: () => ({ ...counts }),
    listRemaining: (filter = {}) => {
      const out: RemainingTask[] = [];
      for (const { task, projectId, instanceId } of tasks.values()) {
        if (filter.projectId !== undefined && filter.projectId !== projectId) continue;
        if (filter.instanceId !== undefined && filter.instanceId !== instanceId) continue;
        if (filter.status !== undefined && filter.status !== task.status) continue;
        const { id, name, status, created_at } = task;
        out.push({ project_id: projectId, instance_id: instanceId, id, name, status, created_at });
      }
      return out;
    },
    toStateFile: () => ({
      projects: [...projects].map(([projectId, byId]) => ({
        project_id: projectId,
        instances: [...byId.values()].map((r) => ({
          ...r.instance,
          tasks: [...r.tasks.values()].map((t) => t.task),
        })),
      })),
    }),
  };

  for (const project of file?.projects ?? []) {
    state.addProject(project.project_id);
    for (const { tasks: instanceTasks, ...instance } of project.instances) {
      state.addInstance(project.project_id, instance);
      for (const task of instanceTasks) state.addTask(instance.instance_id, task);
    }
  }
  return state;
}

function newestFirst(a: TaskRecord, b: TaskRecord): number {
  return b.createdAtMs - a.createdAtMs || (a.task.id < b.task.id ? 1 : a.task.id > b.task.id ? -1 : 0);
}

function duplicate(kind: string, id: string): CleanupError {
  return new CleanupError(
    'INVALID_INPUT',
    `duplicate ${kind} id ${id}: ids must be unique across the emulator`,
    {
      field: `${kind}_id`,
    },
  );
}
