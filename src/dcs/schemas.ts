/**
 * Success bodies of the two list calls. Validation is lenient where it costs nothing (extra fields
 * are ignored, numbers may arrive as strings) and strict on what callers act on (ids, status, dates).
 */
import { z } from 'zod';

const NOT_JSON = Symbol('not JSON');
const NOT_JSON_RESULT = { ok: false, problem: 'body is not JSON' } as const;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

const isoDate = z.string().transform((value, ctx) => {
  const date = ISO_DATE_TIME.test(value) ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    ctx.addIssue({
      code: 'custom',
      message: `not an ISO-8601 date-time: ${JSON.stringify(value.slice(0, 40))}`,
    });
    return z.NEVER;
  }
  return date;
});

/** `task_count` is documented as a string; accept a number too. */
const count = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
]);

const taskSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  status: z.string(),
  created_at: isoDate,
  updated_at: isoDate.nullish(),
  user_name: z.string().nullish(),
  params: z.string().nullish(),
});

const taskPageSchema = z.object({
  task_count: count,
  tasks: z.array(taskSchema).nullish(),
});

const instanceSchema = z.object({
  instance_id: z.string().min(1),
  name: z.string(),
  status: z.string(),
  engine: z.string().nullish(),
  // Not acted upon, so an unreadable value is dropped rather than failing the whole page.
  created_at: isoDate.optional().catch(undefined),
  enterprise_project_id: z.string().nullish(),
});

const instancePageSchema = z.object({
  instance_num: count,
  instances: z.array(instanceSchema).nullish(),
});

/** A background task of one instance, as the list call reports it. */
export interface DcsTask {
  id: string;
  /** The operation, e.g. `EXTEND`, `BindEip`, `masterStandbySwapJob`. */
  name: string;
  /** `SUCCESS`, `FAILED`, `EXECUTING`, `CREATED`, `WAITING`; only SUCCESS and FAILED are final. */
  status: string;
  createdAt: Date;
  updatedAt: Date | undefined;
  projectId: string;
  instanceId: string;
  userName: string | undefined;
  /** The task's parameters, a JSON string as DCS sends it (not parsed: callers rarely need it). */
  params: string | undefined;
}

/** A DCS instance of a project, as the list call reports it. */
export interface DcsInstance {
  instanceId: string;
  name: string;
  status: string;
  engine: string | undefined;
  createdAt: Date | undefined;
  enterpriseProjectId: string | undefined;
  projectId: string;
}

/** One page of a list call: the server's total and the items of this page. */
export interface Page<T> {
  total: number;
  items: T[];
}

/** Outcome of reading a page: the page, or a one-line description of what is wrong with the body. */
export type PageResult<T> = { ok: true; page: Page<T> } | { ok: false; problem: string };

/** Reads a list-tasks success body. Never throws. */
export function parseTaskPage(
  text: string,
  ref: { projectId: string; instanceId: string },
): PageResult<DcsTask> {
  const json = parseJson(text);
  if (json === NOT_JSON) return NOT_JSON_RESULT;
  const parsed = taskPageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: describeIssue(parsed.error) };
  const items = (parsed.data.tasks ?? []).map((t): DcsTask => ({
    id: t.id,
    name: t.name,
    status: t.status,
    createdAt: t.created_at,
    updatedAt: t.updated_at ?? undefined,
    projectId: ref.projectId,
    instanceId: ref.instanceId,
    userName: t.user_name ?? undefined,
    params: t.params ?? undefined,
  }));
  return { ok: true, page: { total: parsed.data.task_count, items } };
}

/** Reads a list-instances success body. Never throws. */
export function parseInstancePage(text: string, projectId: string): PageResult<DcsInstance> {
  const json = parseJson(text);
  if (json === NOT_JSON) return NOT_JSON_RESULT;
  const parsed = instancePageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, problem: describeIssue(parsed.error) };
  const items = (parsed.data.instances ?? []).map((i): DcsInstance => ({
    instanceId: i.instance_id,
    name: i.name,
    status: i.status,
    engine: i.engine ?? undefined,
    createdAt: i.created_at,
    enterpriseProjectId: i.enterprise_project_id ?? undefined,
    projectId,
  }));
  return { ok: true, page: { total: parsed.data.instance_num, items } };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'unreadable body';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(body)';
  return `${path}: ${issue.message}`;
}
