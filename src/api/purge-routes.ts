/**
 * `POST /v1/purges`: the CLI purge's options as a JSON body. A dry run (the default) lists the scope
 * inside the request (within the bounds of purge-gate.ts) and answers the plan, in the plan-file
 * format `dcs-cleanup purge apply` reads, at most `planLimit` tasks listed (the counts cover them
 * all); past the `max` guard it answers 409. `dry_run: false` answers 202 at once with a run id:
 * the worker processes list, plan under the guard and enqueue (follow it at /v1/runs/{run_id}).
 */
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import { z } from 'zod';
import { FINAL_STATUSES } from '../purge/purge-filters.js';
import { DEFAULT_MAX_DELETIONS, MAX_MAX_DELETIONS } from '../purge/plan-purge.js';
import { buildStreamedPlanFile, type PlanFile } from '../purge/plan-file.js';
import { executePurge, type PurgeEnqueueSummary, type PurgeOutcome } from '../purge/purge-use-case.js';
import { randomRunSuffix } from '../purge/run-id.js';
import { parsePurgeSpec, purgeSpecSchema, type PurgeListing, type PurgeSpec } from '../purge/select-purge.js';
import { labelSchema, taskInputSchema } from '../queue/job-contract.js';
import { DEFAULT_LIST_CONCURRENCY, type TaskLister } from '../purge/stream-inventory.js';
import type { Queue } from 'bullmq';
import type { RunLedger } from '../runs/run-ledger.js';
import type { Logger } from '../observability/logger.js';
import type { PlannedTask } from '../purge/plan-purge.js';
import { ApiError } from './api-error.js';
import { DEFAULT_PURGE_LIMITS, createPurgeGate, type PurgeLimits } from './purge-gate.js';
import { addRoute, type RouteContract } from './route-contract.js';
import { describeApiCaller, startApiPurge } from './run-routes.js';
import { readJobTraceparent } from './request-trace.js';

// One source for each rule: the ids of the job contract, the filters of a purge spec.
const id = taskInputSchema.shape.project_id;
const specFilters = purgeSpecSchema.shape.filters.shape;

export const purgeBodySchema = z
  .object({
    project_id: id.optional().meta({ description: 'Default: DCS_PROJECT_ID of the server.' }),
    region: taskInputSchema.shape.region.meta({ description: 'Default: DCS_REGION of the server.' }),
    account: taskInputSchema.shape.account.meta({
      description:
        'The account whose credentials list and delete (CLEANUP_ACCOUNTS_FILE); default: the one listing the project.',
    }),
    instances: z.array(id).min(1).optional().meta({ description: 'Instances to purge; or `all_instances`.' }),
    all_instances: z.boolean().default(false),
    older_than: specFilters.older_than.meta({
      description: 'Only tasks created longer ago than this, e.g. 12h, 7d, 30d.',
    }),
    statuses: specFilters.statuses.default([...FINAL_STATUSES]),
    names: z
      .array(z.string().min(1).max(200))
      .default([])
      .meta({ description: 'Only these task names (EXTEND, BindEip...), case-insensitive.' }),
    exclude_instances: z.array(id).default([]),
    max: z
      .number()
      .int()
      .min(1)
      .max(MAX_MAX_DELETIONS)
      .default(DEFAULT_MAX_DELETIONS)
      .meta({ description: 'Blast-radius guard: when more tasks match, nothing is enqueued (409).' }),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(DEFAULT_LIST_CONCURRENCY)
      .meta({ description: 'Instances listed at once.' }),
    dry_run: z
      .boolean()
      .default(true)
      .meta({ description: 'Answer the plan and enqueue nothing (the default).' }),
    verify: z.boolean().default(false).meta({
      description:
        "A run only: after the run's jobs end, list the instances again and report tasks still there (`still_present`).",
    }),
    reason: labelSchema.optional(),
  })
  .strict()
  .refine((b) => (b.instances !== undefined) !== b.all_instances, {
    path: ['instances'],
    message: 'name instances or set all_instances, not both and not neither',
  });

const planResponseSchema = z.object({
  dry_run: z.literal(true),
  plan: z
    .record(z.string(), z.unknown())
    .meta({ description: 'The plan file (`dcs-cleanup purge apply` reads it, unless truncated).' }),
  truncated: z
    .object({ listed: z.number().int(), omitted: z.number().int(), message: z.string() })
    .optional()
    .meta({
      description:
        'Present when more tasks are selected than the server lists in an answer (API_PURGE_PLAN_LIMIT): `plan.selected` has the first `listed`; `purge apply` refuses such a plan.',
    }),
});

const runAcceptedSchema = z.object({
  dry_run: z.literal(false),
  run_id: z.string(),
  state: z.literal('listing'),
  run_url: z.string().meta({ description: 'Where the run is followed: `/v1/runs/{run_id}`.' }),
});

export const purgeContracts = {
  create: {
    method: 'POST',
    url: '/v1/purges',
    operationId: 'createPurge',
    summary: 'Plan (dry run, the default) or run a purge',
    description:
      'Same options as `dcs-cleanup purge`. A dry run lists inside the request and needs DCS credentials in the server environment (501 otherwise). A run (`dry_run: false`) answers 202 at once: the workers list, plan under the guard and enqueue; a run stopped by the guard ends `failed`.',
    tag: 'purges',
    auth: true,
    scope: 'purge',
    idempotent: true,
    body: purgeBodySchema,
    responses: {
      200: { description: 'The plan (a dry run).', schema: planResponseSchema },
      202: { description: 'The run was accepted; follow it at `run_url`.', schema: runAcceptedSchema },
    },
    errors: [400, 409, 413, 415, 429, 501, 502, 504],
  },
} as const satisfies Record<string, RouteContract>;

export interface PurgeRouteDeps {
  connection: RedisClient;
  /** Where a run is recorded, and the schedules queue the worker processes take it from. */
  runs: { ledger: RunLedger; schedulesQueue: Queue };
  /** CLEANUP_PREFIX: where Idempotency-Key answers are kept. */
  prefix: string;
  /** A DCS client for `region`; undefined when the server has no credentials (purges answer 501). */
  lister:
    | ((
        region: string | undefined,
        scope?: { project_id: string; account?: string | undefined },
      ) => TaskLister)
    | undefined;
  defaultProjectId: string | undefined;
  defaultRegion: string | undefined;
  logger: Logger;
  /** Default {@link DEFAULT_PURGE_LIMITS}. */
  limits?: PurgeLimits | undefined;
  now?: () => Date;
}

type PurgeBody = z.output<typeof purgeBodySchema>;

export function registerPurgeRoutes(app: FastifyInstance, deps: PurgeRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  const limits = deps.limits ?? DEFAULT_PURGE_LIMITS;
  const gate = createPurgeGate(limits.deadlineMs, () =>
    deps.logger.info({ route: purgeContracts.create.url }, 'purge listing stopped: the client went away'),
  );
  const idempotency = { connection: deps.connection, prefix: deps.prefix };
  addRoute(
    app,
    purgeContracts.create,
    async ({ body, raw }, reply) => {
      if (!body.dry_run) {
        const spec = buildSpec(body, deps);
        const runId = await startApiPurge(
          { connection: deps.connection, ...deps.runs },
          {
            spec,
            verify: body.verify,
            reason: body.reason ?? 'purge',
            concurrency: body.concurrency,
            startedBy: describeApiCaller(raw.tokenLabel),
            traceparent: readJobTraceparent(raw),
            now: now(),
          },
        );
        const accepted = { dry_run: false as const, run_id: runId, state: 'listing' as const };
        reply.status(202);
        return { ...accepted, run_url: `/v1/runs/${runId}` };
      }
      const lister = deps.lister;
      if (!lister) {
        throw new ApiError(
          'NOT_IMPLEMENTED',
          'purges need DCS credentials (CLOUD_SDK_AK, CLOUD_SDK_SK) on the API server',
        );
      }
      const spec = buildSpec(body, deps);
      const answer = await gate.run(reply, async (signal) => {
        const outcome = await executePurge(
          {
            lister: lister(spec.scope.region, spec.scope),
            enqueue: () => Promise.reject(new Error('a dry run enqueues nothing')),
            now,
            randomHex: randomRunSuffix,
          },
          {
            spec,
            intent: 'plan',
            source: 'api-purge',
            reason: body.reason ?? 'purge',
            concurrency: body.concurrency,
            signal,
          },
        );
        return presentOutcome(outcome, spec, body, limits.planLimit);
      });
      return answer ?? reply;
    },
    { idempotency },
  );
}

/** The purge spec of a request body, with the server's defaults; INVALID_INPUT without a project. */
function buildSpec(body: PurgeBody, deps: PurgeRouteDeps): PurgeSpec {
  const projectId = body.project_id ?? deps.defaultProjectId;
  if (projectId === undefined) {
    throw new ApiError('INVALID_INPUT', 'name the project', [
      { field: 'project_id', message: 'required when the server has no DCS_PROJECT_ID' },
    ]);
  }
  // Like the CLI, a purge without a region lists and deletes in the server's DCS_REGION.
  const region = body.region ?? deps.defaultRegion;
  return parsePurgeSpec({
    scope: {
      project_id: projectId,
      region,
      ...(body.account === undefined ? {} : { account: body.account }),
      instances: body.instances,
      all_instances: body.all_instances,
    },
    filters: {
      older_than: body.older_than,
      statuses: body.statuses,
      names: body.names,
      exclude_instances: body.exclude_instances,
    },
    max: body.max,
  });
}

/** A dry run's answer: the plan, its task list cut at `planLimit` (a JSON answer is held whole in memory). */
function answerPlan(
  listing: PurgeListing,
  spec: PurgeSpec,
  body: PurgeBody,
  run: { runId: string; at: Date; planLimit: number },
) {
  const streamed = buildStreamedPlanFile(listing, {
    runId: run.runId,
    createdAt: run.at,
    createdBy: 'api',
    projectId: spec.scope.project_id,
    region: spec.scope.region,
    filters: spec.filters,
    scope: { instances: body.instances, all_instances: body.all_instances },
  });
  const selected: PlannedTask[] = [];
  for (let step = streamed.selected.next(); !step.done; step = streamed.selected.next()) {
    if (selected.length === run.planLimit) break;
    selected.push(step.value);
  }
  const plan: PlanFile = { ...streamed, selected };
  const omitted = listing.selected.length - selected.length;
  if (omitted === 0) return { dry_run: true as const, plan };
  const message = `truncated: ${selected.length} tasks listed, ${omitted} more (API_PURGE_PLAN_LIMIT); for the whole plan use the CLI \`dcs-cleanup purge --dry-run --out plan.json\``;
  return { dry_run: true as const, plan, truncated: { listed: selected.length, omitted, message } };
}

/** The answer of a purge's outcome; past the guard a 409. */
function presentOutcome(
  outcome: PurgeOutcome<PurgeEnqueueSummary>,
  spec: PurgeSpec,
  body: PurgeBody,
  planLimit: number,
) {
  const { listing, runId } = outcome;
  switch (outcome.status) {
    case 'guard_stopped':
      throw new ApiError(
        'PURGE_GUARD',
        `${listing.counts.matched} tasks match, more than max ${body.max}: nothing was enqueued (narrow the filters or raise max)`,
      );
    case 'planned':
      return answerPlan(listing, spec, body, { runId, at: outcome.startedAt, planLimit });
    case 'declined':
    case 'enqueued':
      throw new Error('a dry run is planned, never declined nor enqueued');
  }
}
