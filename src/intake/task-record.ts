import type { CleanupError } from '../errors.js';
import type { TaskInput } from '../queue/job-contract.js';

/** The formats a task file can have. */
export const TASK_FORMATS = ['csv', 'jsonl'] as const;
export type TaskFormat = (typeof TASK_FORMATS)[number];

/** The column (CSV) or key (JSON Lines) names a task line may carry; `region` and `account` are optional. */
export const TASK_FIELDS = ['project_id', 'instance_id', 'task_id', 'region', 'account'] as const;
export const REQUIRED_TASK_FIELDS = ['project_id', 'instance_id', 'task_id'] as const;

/**
 * One data line of a task file: a validated task, or the INVALID_INPUT error naming
 * `line N: field`. Problems with the file as a whole are thrown instead (see readTasks).
 */
export type TaskRecord =
  { ok: true; line: number; task: TaskInput } | { ok: false; line: number; error: CleanupError };
