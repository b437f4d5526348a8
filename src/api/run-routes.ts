/**
 * Runs over HTTP: `GET /v1/runs` (newest first), `GET /v1/runs/{run_id}` (the ledger's record) and
 * `POST /v1/runs/{run_id}/cancel` (waiting jobs removed, in-flight ones finish, state `cancelled`).
 * Also where `POST /v1/purges` hands a run to the worker processes (startApiPurge).
 */
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { buildRunId, randomRunSuffix } from '../purge/run-id.js';
import type { PurgeSpec } from '../purge/select-purge.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { cancelRun } from '../runs/cancel-run.js';
import { enqueueApiPurge } from '../runs/run-jobs.js';
import type { RunLedger } from '../runs/run-ledger.js';
import { RUN_ID_PATTERN, RUN_STATES, runRecordSchema } from '../runs/run-record.js';
import { ApiError } from './api-error.js';
import { withRedis } from './redis-guard.js';
import { addRoute, type RouteContract } from './route-contract.js';

const runIdParams = z.object({
  run_id: z.string().regex(RUN_ID_PATTERN, 'must be 1 to 80 letters, digits, ".", "_" or "-"'),
});

const cancelResponseSchema = z.object({
  run_id: z.string(),
  cancelled: z
    .boolean()
    .meta({ description: 'False when the run was over already: `state` says how it ended.' }),
  state: z.enum(RUN_STATES),
  removed: z.number().int().meta({ description: 'Waiting jobs removed (counted `cancelled`).' }),
});

export const runContracts = {
  list: {
    method: 'GET',
    url: '/v1/runs',
    operationId: 'listRuns',
    summary: 'Recent runs, newest first',
    description:
      'Every purge, plan apply, scheduled firing, API purge and API batch, kept RUNS_RETENTION_DAYS (at most RUNS_MAX_COUNT).',
    tag: 'runs',
    auth: true,
    scope: 'read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(1_000).default(50) }),
    responses: { 200: { description: 'The runs.', schema: z.object({ runs: z.array(runRecordSchema) }) } },
    errors: [400],
  },
  get: {
    method: 'GET',
    url: '/v1/runs/:run_id',
    operationId: 'getRun',
    summary: "A run's record: who started it, its spec, state, counts, timings and report",
    tag: 'runs',
    auth: true,
    scope: 'read',
    params: runIdParams,
    responses: { 200: { description: 'The run.', schema: runRecordSchema } },
    errors: [400, 404],
  },
  cancel: {
    method: 'POST',
    url: '/v1/runs/:run_id/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run: its waiting jobs are removed, jobs in flight finish',
    description: 'Needs the `purge` scope (or `admin`).',
    tag: 'runs',
    auth: true,
    scope: 'purge',
    params: runIdParams,
    responses: { 200: { description: 'What the cancel did.', schema: cancelResponseSchema } },
    errors: [400, 404],
  },
} as const satisfies Record<string, RouteContract>;

export interface RunRouteDeps {
  connection: RedisClient;
  ledger: RunLedger;
  /** The deletion queue (a cancel removes the run's waiting jobs from it). */
  queue: Queue;
}

export function registerRunRoutes(app: FastifyInstance, deps: RunRouteDeps): void {
  const { connection, ledger } = deps;
  addRoute(app, runContracts.list, async ({ query }) => ({
    runs: await withRedis(connection, () => ledger.list(query.limit)),
  }));
  addRoute(app, runContracts.get, async ({ params }) => {
    const record = await withRedis(connection, () => ledger.get(params.run_id));
    if (!record)
      throw new ApiError('NOT_FOUND', `no run ${params.run_id} (runs expire, see RUNS_RETENTION_DAYS)`);
    return record;
  });
  addRoute(app, runContracts.cancel, async ({ params }) => {
    const result = await withRedis(connection, () =>
      cancelRun(ledger, { queue: deps.queue, connection }, params.run_id),
    );
    if (result.state === undefined) throw new ApiError('NOT_FOUND', `no run ${params.run_id}`);
    return {
      run_id: params.run_id,
      cancelled: result.cancelled,
      state: result.state,
      removed: result.removed,
    };
  });
}

export interface ApiPurgeStart {
  spec: PurgeSpec;
  verify: boolean;
  reason: string;
  concurrency: number;
  /** `api <token label>`. */
  startedBy: string;
  /** The caller's W3C traceparent, carried into the jobs the workers enqueue. */
  traceparent?: string | undefined;
  now: Date;
}

/** Records the run (`listing`) and hands it to the worker processes; answers its id at once. */
export async function startApiPurge(
  deps: { connection: RedisClient; ledger: RunLedger; schedulesQueue: Queue },
  start: ApiPurgeStart,
): Promise<string> {
  const runId = buildRunId('purge', start.now, randomRunSuffix());
  await withRedis(deps.connection, async () => {
    await deps.ledger.start({
      runId,
      kind: 'api-purge',
      startedBy: start.startedBy,
      spec: { ...start.spec, verify: start.verify },
      verify: start.verify,
    });
    await enqueueApiPurge(deps.schedulesQueue, {
      schema_version: 1,
      run_id: runId,
      spec: start.spec,
      verify: start.verify,
      reason: start.reason,
      source: 'api-purge',
      concurrency: start.concurrency,
      ...(start.traceparent === undefined ? {} : { traceparent: start.traceparent }),
    });
  });
  return runId;
}

/** Who a request's run is recorded as started by. */
export function describeApiCaller(tokenLabel: string | null): string {
  return `api ${tokenLabel ?? 'loopback'}`;
}
