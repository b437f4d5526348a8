/**
 * `POST /v1/deletions` enqueues a batch of tasks; `GET /v1/deletions/{job_id}` reports one job.
 * The batch limit is a schema rule (400, `maxItems` in the OpenAPI document); the byte limit of the
 * body is Fastify's (413).
 */
import type { FastifyInstance } from 'fastify';
import type { JobState, Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import { z } from 'zod';
import {
  JOB_ID_PATTERN,
  deleteJobDataSchema,
  taskInputSchema,
  type DeleteJobResult,
} from '../queue/job-contract.js';
import type { Producer } from '../queue/producer.js';
import { ApiError } from './api-error.js';
import type { ApiMetrics } from './api-metrics.js';
import { withRedis } from './redis-guard.js';
import { buildRunId, randomRunSuffix } from '../purge/run-id.js';
import type { RunLedger } from '../runs/run-ledger.js';
import { describeApiCaller } from './run-routes.js';
import { addRoute, type RouteContract } from './route-contract.js';
import { readJobTraceparent } from './request-trace.js';

/** Tasks one request may carry: one producer chunk, so one EXISTS pipeline and one addBulk. */
export const MAX_TASKS_PER_REQUEST = 1_000;

const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
  'unknown',
] as const satisfies readonly (JobState | 'unknown')[];
const jobStateSchema = z
  .enum(JOB_STATES)
  .meta({ description: 'BullMQ state; `unknown` when the job is gone.' });

export const createDeletionsBodySchema = z
  .object({
    tasks: z
      .array(taskInputSchema)
      .min(1, 'name at least one task')
      .max(MAX_TASKS_PER_REQUEST, `at most ${MAX_TASKS_PER_REQUEST} tasks per request: split the batch`),
    reason: deleteJobDataSchema.shape.reason,
    source: deleteJobDataSchema.shape.source,
  })
  .strict();

// Only deletion job ids: any other name could be one of BullMQ's own keys (`meta`, `events`, `id`).
const jobIdSchema = z
  .string()
  .regex(JOB_ID_PATTERN, 'must be a job id such as del_<project>_<instance>_<task>');

const enqueuedJobSchema = z.object({
  job_id: z.string(),
  task_id: z.string(),
  state: jobStateSchema,
  duplicate: z.boolean().meta({ description: 'The task already had a pending or recently finished job.' }),
});

const createDeletionsResponseSchema = z.object({
  run_id: z.string().meta({ description: "The batch's run: follow it at `/v1/runs/{run_id}`." }),
  enqueued: z.number().int(),
  duplicates: z.number().int(),
  jobs: z.array(enqueuedJobSchema).meta({ description: 'One entry per task, in request order.' }),
});

const deleteJobResultSchema = z.object({
  outcome: z.enum(['deleted', 'already_gone', 'dead_lettered']),
  http_status: z.number().int().nullable(),
  error_code: z.string().nullable(),
  request_id: z.string().nullable().meta({ description: 'X-Request-Id of the last DCS answer.' }),
  attempts: z.number().int(),
  duration_ms: z.number(),
  reason: z.string().optional(),
  dead_letter_id: z.string().optional(),
  trace_id: z
    .string()
    .optional()
    .meta({ description: 'Trace id of the `traceparent` the job was enqueued with.' }),
}) satisfies z.ZodType<DeleteJobResult>;

const deletionStatusSchema = z.object({
  job_id: z.string(),
  state: jobStateSchema,
  task: taskInputSchema,
  reason: z.string().optional(),
  source: z.string().optional(),
  run_id: z.string().optional(),
  traceparent: z.string().optional(),
  enqueued_at: z.string().nullable(),
  attempts_made: z.number().int(),
  finished_at: z.string().nullable(),
  result: deleteJobResultSchema.nullable().meta({ description: 'Set once the job completed.' }),
  failed_reason: z.string().nullable(),
});
export type DeletionStatus = z.infer<typeof deletionStatusSchema>;

export const deletionContracts = {
  create: {
    method: 'POST',
    url: '/v1/deletions',
    operationId: 'createDeletions',
    summary: 'Enqueue background tasks for deletion',
    description: `At most ${MAX_TASKS_PER_REQUEST} tasks per request. A task already pending or finished within the dedupe window is reported as a duplicate and not enqueued again, so a retried request is harmless. A task's \`priority\` is \`urgent\` (sent before every waiting bulk job) or \`bulk\`; by default a request of one task is urgent, a batch bulk.`,
    tag: 'deletions',
    auth: true,
    scope: 'enqueue',
    idempotent: true,
    body: createDeletionsBodySchema,
    responses: {
      202: { description: 'Every task is queued (or was already).', schema: createDeletionsResponseSchema },
    },
    errors: [400, 413, 415],
  },
  get: {
    method: 'GET',
    url: '/v1/deletions/:job_id',
    operationId: 'getDeletion',
    summary: "A deletion job's state and outcome",
    description: 'Finished jobs are kept for the dedupe window (1 hour by default), then answer 404.',
    tag: 'deletions',
    auth: true,
    scope: 'read',
    params: z.object({ job_id: jobIdSchema }),
    responses: { 200: { description: 'The job.', schema: deletionStatusSchema } },
    errors: [400, 404],
  },
} as const satisfies Record<string, RouteContract>;

export interface DeletionRouteDeps {
  /** An `api`-role connection: fails fast when Redis is away. */
  connection: RedisClient;
  /** CLEANUP_PREFIX: where Idempotency-Key answers are kept. */
  prefix: string;
  producer: Producer;
  metrics: ApiMetrics | undefined;
  /** Each request's batch is a run (kind `api-batch`). */
  runs: RunLedger;
}

export type CreateDeletionsBody = z.output<typeof createDeletionsBodySchema>;
export type CreateDeletionsAnswer = z.infer<typeof createDeletionsResponseSchema>;

/**
 * Enqueues a validated batch and answers like `POST /v1/deletions`: the one enqueue of the API,
 * also behind `POST /v1/events`.
 */
export async function enqueueDeletions(
  deps: Omit<DeletionRouteDeps, 'prefix'>,
  body: CreateDeletionsBody,
  caller: { traceparent: string | undefined; startedBy: string },
): Promise<CreateDeletionsAnswer> {
  const { producer, connection } = deps;
  const runId = buildRunId('batch', new Date(), randomRunSuffix());
  const labels = {
    ...(body.reason === undefined ? {} : { reason: body.reason }),
    source: body.source ?? 'api',
    runId,
    // A single deletion is an event to act on now; a batch is bulk. An item's own priority wins.
    priority: body.tasks.length === 1 ? ('urgent' as const) : ('bulk' as const),
    ...(caller.traceparent === undefined ? {} : { traceparent: caller.traceparent }),
  };
  await withRedis(connection, () =>
    deps.runs.start({ runId, kind: 'api-batch', startedBy: caller.startedBy }),
  );
  const summary = await withRedis(connection, () => producer.enqueueMany(body.tasks, labels)).catch(
    async (err: unknown) => {
      await deps.runs.fail(runId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
      throw err;
    },
  );
  await withRedis(connection, () =>
    deps.runs.enqueued(runId, {
      selected: body.tasks.length,
      enqueued: summary.enqueued,
      duplicates: summary.duplicates,
    }),
  );
  // A duplicate's job may be anywhere in its life: ask for its state (new jobs are waiting).
  const states = await withRedis(connection, () =>
    Promise.all(
      summary.jobs.map((j, i) =>
        j.duplicate
          ? producer.queueFor(body.tasks[i]!).getJobState(j.job_id)
          : Promise.resolve('waiting' as const),
      ),
    ),
  );
  deps.metrics?.enqueued.inc({ result: 'enqueued' }, summary.enqueued);
  deps.metrics?.enqueued.inc({ result: 'duplicate' }, summary.duplicates);
  return {
    run_id: runId,
    enqueued: summary.enqueued,
    duplicates: summary.duplicates,
    jobs: summary.jobs.map((j, i) => ({ ...j, state: states[i]! })),
  };
}

export function registerDeletionRoutes(app: FastifyInstance, deps: DeletionRouteDeps): void {
  const { producer, connection } = deps;
  const idempotency = { connection, prefix: deps.prefix };

  addRoute(
    app,
    deletionContracts.create,
    async ({ body, raw }) =>
      enqueueDeletions(deps, body, {
        traceparent: readJobTraceparent(raw),
        startedBy: describeApiCaller(raw.tokenLabel),
      }),
    { idempotency },
  );

  addRoute(app, deletionContracts.get, async ({ params }) => {
    // A job lives in its account's queue: the first queue that holds it answers.
    const status = await withRedis(connection, async () => {
      for (const queue of producer.queues()) {
        const found = await readDeletion(queue, params.job_id);
        if (found !== undefined) return found;
      }
      return undefined;
    });
    if (!status) throw new ApiError('NOT_FOUND', `no deletion job ${params.job_id} (finished jobs expire)`);
    return status;
  });
}

async function readDeletion(queue: Queue, jobId: string): Promise<DeletionStatus | undefined> {
  // State first: a job seen `completed` has its result in its hash already (one Lua script writes
  // both), whereas a hash read first could be from before a completion the state then reports.
  const state = await queue.getJobState(jobId);
  const job = await queue.getJob(jobId);
  if (!job) return undefined;
  // Foreign producers may write anything: report what parses, never fail on it.
  const data = deleteJobDataSchema.partial().safeParse(job.data);
  const d = data.success ? data.data : {};
  const result = deleteJobResultSchema.safeParse(job.returnvalue);
  return {
    job_id: jobId,
    state,
    task: {
      project_id: d.project_id ?? '',
      instance_id: d.instance_id ?? '',
      task_id: d.task_id ?? '',
      ...(d.region === undefined ? {} : { region: d.region }),
      ...(d.account === undefined ? {} : { account: d.account }),
      priority: d.priority ?? 'bulk',
    },
    ...(d.reason === undefined ? {} : { reason: d.reason }),
    ...(d.source === undefined ? {} : { source: d.source }),
    ...(d.run_id === undefined ? {} : { run_id: d.run_id }),
    ...(d.traceparent === undefined ? {} : { traceparent: d.traceparent }),
    enqueued_at: d.enqueued_at ?? new Date(job.timestamp).toISOString(),
    attempts_made: job.attemptsMade,
    finished_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    result: result.success ? result.data : null,
    failed_reason: job.failedReason ? job.failedReason.slice(0, 512) : null,
  };
}
