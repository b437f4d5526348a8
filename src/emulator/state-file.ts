/**
 * The emulator's inventory as data: the shape of a `--state-file`, of `exportState()` and of a generated
 * seed. Field names are the wire names of the DCS list calls, so a task or an instance is served as stored.
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';

export const TASK_STATUSES = ['SUCCESS', 'FAILED', 'EXECUTING', 'CREATED', 'WAITING'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Only these two are final; DCS refuses to delete a task in any other status. */
export const FINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['SUCCESS', 'FAILED']);

export const TASK_NAMES = [
  'EXTEND',
  'BindEip',
  'UnBindEip',
  'AddReplica',
  'DelReplica',
  'AddWhitelist',
  'UpdatePort',
  'RemoveIpFromDns',
  'masterStandbySwapJob',
  'modify',
] as const;

export const TASK_ID_PATTERN = /^[0-9a-f]{32}$/;
export const INSTANCE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Project ids are 32 hex characters; Huawei's own DELETE example uses a UUID, so both are accepted. */
export const PROJECT_ID_PATTERN =
  /^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** ISO-8601 UTC; stored and served with milliseconds, like DCS (`2020-06-17T07:38:42.503Z`). */
const isoDate = z.iso.datetime().transform((value) => new Date(value).toISOString());

const taskSchema = z.object({
  id: z.string().regex(TASK_ID_PATTERN, 'must be 32 lower-case hex characters'),
  name: z.string().min(1).default('modify'),
  details: z.record(z.string(), z.unknown()).default({}),
  user_name: z.string().default('emulator'),
  user_id: z.string().default('0'.repeat(32)),
  params: z.string().default('{}'),
  status: z.enum(TASK_STATUSES),
  created_at: isoDate,
  updated_at: isoDate.optional(),
  enable_show: z.boolean().default(true),
});

const instanceSchema = z.object({
  instance_id: z.string().regex(INSTANCE_ID_PATTERN, 'must be a lower-case UUID'),
  name: z.string().min(1).default('dcs-emulated'),
  status: z.string().default('RUNNING'),
  engine: z.string().default('Redis'),
  engine_version: z.string().default('6.0'),
  created_at: isoDate.default('2024-01-01T00:00:00.000Z'),
  enterprise_project_id: z.string().default('0'),
  tasks: z.array(taskSchema).default([]),
});

const stateFileSchema = z.object({
  projects: z.array(
    z.object({
      project_id: z.string().regex(PROJECT_ID_PATTERN, 'must be 32 lower-case hex characters or a UUID'),
      instances: z.array(instanceSchema).default([]),
    }),
  ),
});

/** A task as `GET .../tasks` returns it. */
export type EmulatorTask = Omit<z.output<typeof taskSchema>, 'updated_at'> & { updated_at: string };
/** An instance as `GET /v2/{project_id}/instances` returns it. */
export type EmulatorInstance = Omit<z.output<typeof instanceSchema>, 'tasks'>;
/** A task to add: everything but `id`, `status` and `created_at` has a default. */
export type EmulatorTaskInput = z.input<typeof taskSchema>;
/** An instance to add: everything but `instance_id` has a default. */
export type EmulatorInstanceInput = Omit<z.input<typeof instanceSchema>, 'tasks'>;

/** A state file as written: most fields have defaults (see docs/emulator.md). */
export type EmulatorStateFileInput = z.input<typeof stateFileSchema>;

export interface EmulatorStateFile {
  projects: {
    project_id: string;
    instances: (EmulatorInstance & { tasks: EmulatorTask[] })[];
  }[];
}

/** Validates a state file (already JSON-parsed); INVALID_INPUT naming every bad field. */
export function parseEmulatorStateFile(input: unknown, source = 'state file'): EmulatorStateFile {
  const result = stateFileSchema.safeParse(input);
  if (!result.success) throw buildInputError(source, result.error);
  return {
    projects: result.data.projects.map((project) => ({
      project_id: project.project_id,
      instances: project.instances.map((instance) => ({
        ...instance,
        tasks: instance.tasks.map(completeTask),
      })),
    })),
  };
}

/** Validates one task to add and fills its defaults. */
export function parseEmulatorTask(input: unknown, source = 'task'): EmulatorTask {
  const result = taskSchema.safeParse(input);
  if (!result.success) throw buildInputError(source, result.error);
  return completeTask(result.data);
}

/** Validates one instance to add and fills its defaults. */
export function parseEmulatorInstance(input: unknown, source = 'instance'): EmulatorInstance {
  const result = instanceSchema.omit({ tasks: true }).safeParse(input);
  if (!result.success) throw buildInputError(source, result.error);
  return result.data;
}

function completeTask(task: z.output<typeof taskSchema>): EmulatorTask {
  return { ...task, updated_at: task.updated_at ?? task.created_at };
}

/** INVALID_INPUT naming the first ten bad fields of `source` by path. */
export function buildInputError(source: string, error: z.ZodError): CleanupError {
  const problems = error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  const more = error.issues.length > 10 ? `\n  ... and ${error.issues.length - 10} more` : '';
  return new CleanupError('INVALID_INPUT', `invalid ${source}:\n  ${problems.join('\n  ')}${more}`, {
    field: error.issues[0]?.path.join('.'),
  });
}
