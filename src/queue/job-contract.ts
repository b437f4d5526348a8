/**
 * The job contract: what any BullMQ client, in any language, writes to enqueue one deletion.
 *
 *   queue name   `dcs-cleanup` (keys `<CLEANUP_PREFIX>:dcs-cleanup:*`)
 *   job name     `delete-task`
 *   job id       `buildJobId(task)`: one job per task, so a second enqueue is a duplicate
 *   data         DeleteJobData below (snake_case, schema_version 1); never credentials
 *   options      attempts and backoff `{ type: 'dcs-jitter' }` (DEFAULT_JOB_OPTIONS)
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { regionSchema } from '../config/regions.js';

export const QUEUE_NAME = 'dcs-cleanup';
export const DEAD_LETTER_QUEUE_NAME = 'dcs-cleanup-dead';
export const JOB_NAME = 'delete-task';
export const JOB_SCHEMA_VERSION = 1;
/** The custom BullMQ backoff type the worker implements (capped full jitter). */
export const BACKOFF_TYPE = 'dcs-jitter';

const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be 1 to 64 letters, digits or "-"');
const label = z.string().max(200, 'must be at most 200 characters');

/** One task to delete, as producers hand it over. */
export const taskInputSchema = z.object({
  project_id: id,
  instance_id: id,
  task_id: id,
  region: regionSchema.optional(),
});
export type TaskInput = z.infer<typeof taskInputSchema>;

/** The job payload stored in Redis. */
export const deleteJobDataSchema = taskInputSchema.extend({
  schema_version: z.literal(JOB_SCHEMA_VERSION),
  reason: label.optional(),
  source: label.optional(),
  /** The purge or schedule run that enqueued this job, if any. */
  run_id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/)
    .optional(),
  enqueued_at: z.string().optional(),
});
export type DeleteJobData = z.infer<typeof deleteJobDataSchema>;

/** What a finished job returns (BullMQ `returnvalue`), also the outcome log record's core. */
export interface DeleteJobResult {
  outcome: 'deleted' | 'already_gone' | 'dead_lettered';
  http_status: number | null;
  error_code: string | null;
  request_id: string | null;
  attempts: number;
  duration_ms: number;
  reason?: string;
  dead_letter_id?: string;
}

/** Deterministic job id: the same task always maps to the same job. */
export function buildJobId(task: Pick<TaskInput, 'project_id' | 'instance_id' | 'task_id'>): string {
  return `del-${task.project_id}-${task.instance_id}-${task.task_id}`;
}

/** Validates one task; INVALID_INPUT naming `where.field` (e.g. `tasks[3].task_id`, `line 7: task_id`). */
export function parseTaskInput(value: unknown, where = ''): TaskInput {
  const result = taskInputSchema.safeParse(value);
  if (result.success) return result.data;
  throw toInputError(result.error, where);
}

/** Validates a raw queue payload; INVALID_JOB naming every bad field. */
export function parseJobData(value: unknown): DeleteJobData {
  const result = deleteJobDataSchema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
  throw new CleanupError('INVALID_JOB', `invalid job payload: ${fields.join('; ')}`, {
    field: result.error.issues.map((i) => i.path.join('.')).join(','),
  });
}

function toInputError(error: z.ZodError, where: string): CleanupError {
  const prefix = where === '' ? '' : where.endsWith(':') ? `${where} ` : `${where}.`;
  const parts = error.issues.map((i) => `${prefix}${i.path.join('.') || '(value)'}: ${i.message}`);
  return new CleanupError('INVALID_INPUT', parts.join('; '), {
    field: error.issues.map((i) => `${prefix}${i.path.join('.')}`).join(','),
  });
}
