/**
 * What a purge does, the one answer for the CLI, the API and the schedule worker (executePurge)
 * and for `purge apply` (executeStoredPurge: step 1 is a reviewed plan's tasks instead):
 *
 *   1. select: list the scope and plan it under the guard (selectPurge: streamed, at most `max`
 *      tasks kept, compactly);
 *   2. guard: more than `max` matched -> stop, nothing enqueued;
 *   3. run id: the caller's (a schedule firing's stable id) or a new `purge-<time>-<hex>`;
 *   4. a plan (dry run) stops here; a run is approved (the CLI's confirmation), then
 *   5. enqueue: the selection, every job labelled with the run id, source and reason.
 *
 * The lister, the enqueue, the clock and the random suffix are injected, so purge/ never imports
 * queue/; each adapter only presents the typed outcome.
 */
import type { PlannedTasks, SkippedTask } from './plan-purge.js';
import { buildRunId } from './run-id.js';
import {
  selectPurge,
  selectPurgeAcross,
  type PurgeListing,
  type PurgeSpec,
  type ScopePart,
} from './select-purge.js';
import type { TaskLister } from './stream-inventory.js';

/** What every job of a run carries, besides its task. */
export interface PurgeEnqueueOptions {
  runId: string;
  source: string;
  reason: string;
  /** The region the tasks were listed in (undefined: the worker's default, its account's). */
  region: string | undefined;
  /** The account the scope names (undefined: each task's project decides). */
  account: string | undefined;
}

/** The least an enqueue answers; an adapter's enqueue may answer more (duplicate ids). */
export interface PurgeEnqueueSummary {
  enqueued: number;
  duplicates: number;
}

/** Puts a selection in the deletion queue. `tasks` can be iterated more than once; never copy it. */
export type EnqueuePurge<E extends PurgeEnqueueSummary> = (
  tasks: PlannedTasks,
  options: PurgeEnqueueOptions,
) => Promise<E>;

export interface PurgeUseCaseDeps<E extends PurgeEnqueueSummary> {
  lister: TaskLister;
  enqueue: EnqueuePurge<E>;
  now: () => Date;
  /** Six hex characters for a new run id (see randomRunSuffix). */
  randomHex: () => string;
}

export interface PurgeRequest {
  spec: PurgeSpec;
  /** `plan`: select and answer the plan, enqueue nothing (a dry run); `run`: enqueue the selection. */
  intent: 'plan' | 'run';
  /** The jobs' labels. */
  source: string;
  reason: string;
  /** A run id chosen by the caller; default a new `purge-<time>-<hex>`. */
  runId?: string | undefined;
  /** Instances listed at once (default 8). */
  concurrency?: number | undefined;
  /** Stops the listing (the API's client went away, its deadline passed). */
  signal?: AbortSignal | undefined;
  /**
   * Several scopes, each with its account's lister, listed under the one guard of `spec.max`
   * (`purge --all-accounts`); `spec.scope` and `deps.lister` are then not used for the listing.
   */
  across?: readonly ScopePart[] | undefined;
  /** Told the listing as soon as it is known, whatever follows (the CLI prints it). */
  onListed?: ((listing: PurgeListing) => void) | undefined;
  /** Asked before a run within the guard enqueues; false declines it (nothing enqueued). Default yes. */
  approve?: ((listing: PurgeListing) => Promise<boolean>) | undefined;
}

/** How a purge ends: stopped at the guard, planned, declined, or enqueued. */
export type PurgeSettlement<E extends PurgeEnqueueSummary> =
  | { status: 'guard_stopped' }
  | { status: 'planned' }
  | { status: 'declined' }
  | { status: 'enqueued'; enqueued: E };

interface OutcomeBase {
  runId: string;
  startedAt: Date;
}

/** A listed purge's end, with what the listing saw. */
export type PurgeOutcome<E extends PurgeEnqueueSummary> = OutcomeBase & {
  listing: PurgeListing;
} & PurgeSettlement<E>;

/** Runs one purge (see the file comment). Throws what the listing or the enqueue throws. */
export async function executePurge<E extends PurgeEnqueueSummary>(
  deps: PurgeUseCaseDeps<E>,
  request: PurgeRequest,
): Promise<PurgeOutcome<E>> {
  const startedAt = deps.now();
  const selectOptions = {
    now: startedAt,
    ...(request.concurrency === undefined ? {} : { concurrency: request.concurrency }),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  };
  const listing =
    request.across === undefined
      ? await selectPurge(deps.lister, request.spec, selectOptions)
      : await selectPurgeAcross(request.across, request.spec, selectOptions);
  const runId = request.runId ?? buildRunId('purge', startedAt, deps.randomHex());
  request.onListed?.(listing);
  const approve = request.approve;
  const settled = await settle(deps, request, {
    tasks: listing.selected,
    stopped: listing.guard.stopped,
    runId,
    // Across accounts each job keeps its account's own region and is routed by its project.
    region: request.across === undefined ? request.spec.scope.region : undefined,
    account: request.across === undefined ? request.spec.scope.account : undefined,
    approve: approve && (() => approve(listing)),
  });
  return { runId, startedAt, listing, ...settled };
}

/** A selection made earlier (a reviewed plan file): the same guard, run id, approval and enqueue. */
export interface StoredPurgeRequest {
  tasks: PlannedTasks;
  skipped: readonly SkippedTask[];
  /** The guard: more tasks than this and nothing is enqueued. */
  max: number;
  region: string | undefined;
  account?: string | undefined;
  source: string;
  reason: string;
  /** The plan's own run id; default a new one. */
  runId?: string | undefined;
  approve?: (() => Promise<boolean>) | undefined;
}

/** Runs a stored selection (`purge apply`): no listing, otherwise what executePurge does. */
export async function executeStoredPurge<E extends PurgeEnqueueSummary>(
  deps: Pick<PurgeUseCaseDeps<E>, 'enqueue' | 'now' | 'randomHex'>,
  request: StoredPurgeRequest,
): Promise<OutcomeBase & PurgeSettlement<E>> {
  const startedAt = deps.now();
  const runId = request.runId ?? buildRunId('purge', startedAt, deps.randomHex());
  const settled = await settle(
    deps,
    { ...request, intent: 'run' },
    { ...request, account: request.account, stopped: request.tasks.length > request.max, runId },
  );
  return { runId, startedAt, ...settled };
}

/** The steps after the selection: guard, plan, approval, enqueue. */
async function settle<E extends PurgeEnqueueSummary>(
  deps: Pick<PurgeUseCaseDeps<E>, 'enqueue'>,
  request: Pick<PurgeRequest, 'intent' | 'source' | 'reason'>,
  run: {
    tasks: PlannedTasks;
    stopped: boolean;
    runId: string;
    region: string | undefined;
    account: string | undefined;
    approve?: (() => Promise<boolean>) | undefined;
  },
): Promise<PurgeSettlement<E>> {
  if (run.stopped) return { status: 'guard_stopped' };
  if (request.intent === 'plan') return { status: 'planned' };
  if (run.approve !== undefined && !(await run.approve())) return { status: 'declined' };
  const enqueued = await deps.enqueue(run.tasks, {
    runId: run.runId,
    source: request.source,
    reason: request.reason,
    region: run.region,
    account: run.account,
  });
  return { status: 'enqueued', enqueued };
}
