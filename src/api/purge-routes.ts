/**
 * `POST /v1/purges`: the CLI purge's options as a JSON body. A dry run (the default) lists the scope
 * and answers the plan, in the plan-file format `dcs-cleanup purge apply` reads; `dry_run: false`
 * enqueues the selection under a new run id. Past the `max` guard nothing is enqueued (409).
 * The listing runs inside the request: a large project takes as long as its list calls.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import { z } from 'zod';
import { FINAL_STATUSES } from '../purge/purge-filters.js';
import { DEFAULT_MAX_DELETIONS, MAX_MAX_DELETIONS } from '../purge/plan-purge.js';
import { buildPlanFile } from '../purge/plan-file.js';
import { buildRunId } from '../purge/run-id.js';
import { parsePurgeSpec, purgeSpecSchema, selectPurge, type PurgeSpec } from '../purge/select-purge.js';
import { taskInputSchema } from '../queue/job-contract.js';
import { DEFAULT_LIST_CONCURRENCY, type TaskLister } from '../purge/stream-inventory.js';
import { enqueueSelection } from '../queue/enqueue-selection.js';
import type { Producer } from '../queue/producer.js';
import { ApiError } from './api-error.js';
import { REDIS_DEADLINE_MS, withRedis } from './redis-guard.js';
import { addRoute, type RouteContract } from './route-contract.js';

// One source for each rule: the ids of the job contract, the filters of a purge spec.
const id = taskInputSchema.shape.project_id;
const specFilters = purgeSpecSchema.shape.filters.shape;

export const purgeBodySchema = z
  .object({
    project_id: id.optional().meta({ description: 'Default: DCS_PROJECT_ID of the server.' }),
    region: taskInputSchema.shape.region.meta({ description: 'Default: DCS_REGION of the server.' }),
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
    reason: z.string().max(200).optional(),
  })
  .strict()
  .refine((b) => (b.instances !== undefined) !== b.all_instances, {
    path: ['instances'],
    message: 'name instances or set all_instances, not both and not neither',
  });

const countsSchema = z.record(z.string(), z.number().int());

const purgeResponseSchema = z.union([
  z.object({
    dry_run: z.literal(true),
    plan: z
      .record(z.string(), z.unknown())
      .meta({ description: 'The plan file (`dcs-cleanup purge apply` reads it).' }),
  }),
  z.object({
    dry_run: z.literal(false),
    run_id: z.string(),
    enqueued: z.number().int(),
    duplicates: z.number().int(),
    counts: countsSchema,
  }),
]);

export const purgeContracts = {
  create: {
    method: 'POST',
    url: '/v1/purges',
    operationId: 'createPurge',
    summary: 'Plan (dry run, the default) or run a purge',
    description:
      'Same options as `dcs-cleanup purge`. Needs DCS credentials in the server environment (501 otherwise).',
    tag: 'purges',
    auth: true,
    body: purgeBodySchema,
    responses: {
      200: { description: 'The plan, or the run that was enqueued.', schema: purgeResponseSchema },
    },
    errors: [400, 409, 413, 415, 501, 502],
  },
} as const satisfies Record<string, RouteContract>;

export interface PurgeRouteDeps {
  connection: RedisClient;
  producer: Producer;
  /** A DCS client for `region`; undefined when the server has no credentials (purges answer 501). */
  lister: ((region: string | undefined) => TaskLister) | undefined;
  defaultProjectId: string | undefined;
  defaultRegion: string | undefined;
  now?: () => Date;
}

export function registerPurgeRoutes(app: FastifyInstance, deps: PurgeRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  addRoute(app, purgeContracts.create, async ({ body }) => {
    if (!deps.lister) {
      throw new ApiError(
        'NOT_IMPLEMENTED',
        'purges need DCS credentials (CLOUD_SDK_AK, CLOUD_SDK_SK) on the API server',
      );
    }
    const projectId = body.project_id ?? deps.defaultProjectId;
    if (projectId === undefined) {
      throw new ApiError('INVALID_INPUT', 'name the project', [
        { field: 'project_id', message: 'required when the server has no DCS_PROJECT_ID' },
      ]);
    }
    // Like the CLI, a purge without a region lists and deletes in the server's DCS_REGION.
    const region = body.region ?? deps.defaultRegion;
    const spec: PurgeSpec = parsePurgeSpec({
      scope: { project_id: projectId, region, instances: body.instances, all_instances: body.all_instances },
      filters: {
        older_than: body.older_than,
        statuses: body.statuses,
        names: body.names,
        exclude_instances: body.exclude_instances,
      },
      max: body.max,
    });
    const at = now();
    const listing = await selectPurge(deps.lister(region), spec, { now: at, concurrency: body.concurrency });
    if (listing.guard.stopped) {
      throw new ApiError(
        'PURGE_GUARD',
        `${listing.counts.matched} tasks match, more than max ${body.max}: nothing was enqueued (narrow the filters or raise max)`,
      );
    }
    const runId = buildRunId('purge', at, randomBytes(3).toString('hex'));
    if (body.dry_run) {
      const plan = buildPlanFile(listing, {
        runId,
        createdAt: at,
        createdBy: 'api',
        projectId,
        region,
        filters: spec.filters,
        scope: { instances: body.instances, all_instances: body.all_instances },
      });
      return { dry_run: true as const, plan };
    }
    const options = { runId, source: 'api-purge', reason: body.reason ?? 'purge', region };
    // A large selection takes a while to enqueue: the deadline grows with it (about 1 ms per task).
    const summary = await withRedis(
      deps.connection,
      () => enqueueSelection(deps.producer, listing.selected, options),
      REDIS_DEADLINE_MS + listing.selected.length,
    );
    return {
      dry_run: false as const,
      run_id: runId,
      enqueued: summary.enqueued,
      duplicates: summary.duplicates,
      counts: { ...listing.counts, selected: listing.selected.length },
    };
  });
}
