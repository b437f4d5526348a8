/**
 * `runs cancel` and POST /v1/runs/{id}/cancel: the run is marked `cancelled` first (so an API purge
 * still listing enqueues nothing, and the schedule worker removes what an enqueue in progress adds),
 * then its jobs still waiting, paused, prioritized or delayed are removed and counted `cancelled`.
 * Jobs in flight finish and are counted as they end. Only jobs whose payload carries the run id are
 * touched: a task this run found already queued by another run stays with that run.
 */
import type { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import type { RunLedger } from './run-ledger.js';
import type { RunState } from './run-record.js';

/** Ids read per round trip. */
const PAGE = 1_000;
const WAITING = ['wait', 'prioritized', 'delayed'] as const;

export interface CancelResult {
  /** False when the run was over already (its state says how it ended) or unknown. */
  cancelled: boolean;
  state: RunState | undefined;
  /** Waiting jobs removed. */
  removed: number;
}

/** Where a run's jobs are: the deletion queue and a connection to read their payloads with. */
export interface RunQueue {
  queue: Queue;
  connection: RedisClient;
}

export async function cancelRun(
  ledger: Pick<RunLedger, 'markCancelled' | 'jobEnded'>,
  where: RunQueue,
  runId: string,
): Promise<CancelResult> {
  const mark = await ledger.markCancelled(runId);
  if (!mark.cancelled) return { ...mark, removed: 0 };
  return { ...mark, removed: await removeWaitingJobs(ledger, where, runId) };
}

/** Removes the run's jobs that no worker holds; each removed job is counted `cancelled`. */
export async function removeWaitingJobs(
  ledger: Pick<RunLedger, 'jobEnded'>,
  where: RunQueue,
  runId: string,
): Promise<number> {
  const { queue } = where;
  const mine = await findRunJobs(where, runId);
  let removed = 0;
  for (const id of mine) {
    // 0 when a worker took it meanwhile (it is locked): it ends, and is counted, as any other.
    if ((await queue.remove(id)) !== 1) continue;
    await ledger.jobEnded(runId, id, 'cancelled');
    removed += 1;
  }
  return removed;
}

/** The ids of the waiting jobs whose payload names `runId`. */
async function findRunJobs({ queue, connection }: RunQueue, runId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getRanges([...WAITING], start, start + PAGE - 1, true);
    for (const id of page) ids.add(id);
    if (page.length < PAGE) break;
  }
  const all = [...ids];
  const mine: string[] = [];
  for (let i = 0; i < all.length; i += PAGE) {
    const batch = all.slice(i, i + PAGE);
    const pipeline = connection.pipeline();
    for (const id of batch) pipeline.hget(queue.toKey(id), 'data');
    const answers = (await pipeline.exec()) ?? [];
    answers.forEach(([, raw]: [Error | null, unknown], j: number) => {
      if (typeof raw === 'string' && readRunId(raw) === runId) mine.push(batch[j]!);
    });
  }
  return mine;
}

function readRunId(raw: string): unknown {
  try {
    return (JSON.parse(raw) as { run_id?: unknown } | null)?.run_id;
  } catch {
    return undefined;
  }
}
