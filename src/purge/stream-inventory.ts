/**
 * The inventory: every task of the instances in scope, streamed from the DCS list calls. Instances
 * are listed a few at once (bounded), each page is handed on as it arrives, and each instance's
 * listing has at most one page in flight, so memory stays at about `concurrency` pages whatever the
 * number of tasks. Nothing here deletes: listing completes before anything is enqueued, so offsets
 * never shift under the pagination.
 */
import { DcsRequestError } from '../dcs/dcs-request-error.js';
import type { ListedTask } from './plan-purge.js';

/** The slice of the DCS client the inventory needs (a DcsClient fits). */
export interface TaskLister {
  listInstances(projectId: string, options?: { signal?: AbortSignal }): AsyncIterable<{ instanceId: string }>;
  listBackgroundTasks(
    ref: { projectId: string; instanceId: string },
    options?: { endTime?: Date; signal?: AbortSignal },
  ): AsyncIterable<ListedTask>;
}

export interface InventoryScope {
  projectId: string;
  /** The instances to list; undefined lists every instance of the project. */
  instances?: string[] | undefined;
  excludeInstances?: string[] | undefined;
  /** Only tasks created before this matter: used to narrow the list call's time window. */
  createdBefore?: Date | undefined;
}

export interface InventoryStats {
  /** Instances whose tasks were listed. */
  instances: number;
  /** Instances that no longer exist (DCS answered "not found" to the list call). */
  instancesGone: string[];
}

export interface InventoryOptions {
  /** Instances listed at once, default 8. */
  concurrency?: number;
  now?: Date;
  signal?: AbortSignal;
}

export const DEFAULT_LIST_CONCURRENCY = 8;
/**
 * Margin added to the `end_time` window. Huawei documents the window as UTC to the second but not
 * its edges; a day of margin absorbs a server that reads it in local time or excludes the end. The
 * exact age cut is made by the planner, so a wider window only costs a few more tasks listed.
 */
const WINDOW_MARGIN_MS = 24 * 3_600_000;

/** Streams every task in scope; `stats` fills in as the listing goes. Throws DcsRequestError on a failed page. */
export function streamInventory(
  lister: TaskLister,
  scope: InventoryScope,
  options: InventoryOptions = {},
): { tasks: AsyncGenerator<ListedTask>; stats: InventoryStats } {
  const stats: InventoryStats = { instances: 0, instancesGone: [] };
  const now = options.now ?? new Date();
  const windowEnd = scope.createdBefore && new Date(scope.createdBefore.getTime() + WINDOW_MARGIN_MS);
  const listOptions = {
    ...(windowEnd !== undefined && windowEnd < now ? { endTime: windowEnd } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const excluded = new Set(scope.excludeInstances ?? []);

  async function* instanceIds(): AsyncGenerator<string> {
    const ids =
      scope.instances ??
      mapAsync(
        lister.listInstances(scope.projectId, options.signal ? { signal: options.signal } : {}),
        (instance) => instance.instanceId,
      );
    for await (const id of ids) if (!excluded.has(id)) yield id;
  }

  async function* tasksOf(instanceId: string): AsyncGenerator<ListedTask> {
    stats.instances += 1;
    try {
      yield* lister.listBackgroundTasks({ projectId: scope.projectId, instanceId }, listOptions);
    } catch (err) {
      // An instance deleted since it was listed (or named by mistake) has no task left to purge.
      if (err instanceof DcsRequestError && err.outcome.verdict.action === 'already_gone') {
        stats.instancesGone.push(instanceId);
        return;
      }
      throw err;
    }
  }

  const tasks = mergeBounded<ListedTask>(
    mapAsync(instanceIds(), (id) => tasksOf(id)),
    options.concurrency ?? DEFAULT_LIST_CONCURRENCY,
  );
  return { tasks, stats };
}

async function* mapAsync<A, B>(source: AsyncIterable<A> | Iterable<A>, fn: (a: A) => B): AsyncGenerator<B> {
  for await (const item of source) yield fn(item);
}

type Pulled<T> = { key: number; result: IteratorResult<T> } | { key: number; error: unknown };

/**
 * Interleaves up to `concurrency` streams, starting the next one when one ends, and only one until
 * the first answer. Each running stream has exactly one `next()` pending, so a slow consumer slows
 * every producer (back-pressure). Answers are taken in the order they arrive, from a queue each
 * answer puts itself in: racing the pending `next()`s for every item instead would leave, on a
 * stream waiting for its next page, one reaction per item the other streams hand on meanwhile
 * (thousands of promises kept until that page arrives).
 */
export async function* mergeBounded<T>(
  streams: AsyncIterable<AsyncIterable<T>>,
  concurrency: number,
): AsyncGenerator<T> {
  const source = streams[Symbol.asyncIterator]();
  const running = new Map<number, AsyncIterator<T>>();
  const arrived: Pulled<T>[] = [];
  let wake: (() => void) | undefined;
  const settle = (pulled: Pulled<T>): void => {
    arrived.push(pulled);
    wake?.();
    wake = undefined;
  };
  const pull = (key: number, iterator: AsyncIterator<T>): void => {
    iterator.next().then(
      (result) => settle({ key, result }),
      (error: unknown) => settle({ key, error }),
    );
  };
  let nextKey = 0;
  let sourceDone = false;
  // One stream alone until it answers once: a wrong key then costs one failed call, not one per
  // stream (Huawei locks an AK/SK after more than 5 failed authentications in a row).
  let proven = false;
  try {
    for (;;) {
      while (!sourceDone && running.size < (proven ? concurrency : 1)) {
        const step = await source.next();
        if (step.done) sourceDone = true;
        else {
          const iterator = step.value[Symbol.asyncIterator]();
          const key = nextKey++;
          running.set(key, iterator);
          pull(key, iterator);
        }
      }
      if (running.size === 0) return;
      while (arrived.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      // At most one answer per running stream is waiting here, so the queue stays short.
      const pulled = arrived.shift()!;
      if (!('result' in pulled)) throw pulled.error;
      proven = true;
      if (pulled.result.done) {
        running.delete(pulled.key);
        continue;
      }
      pull(pulled.key, running.get(pulled.key)!);
      yield pulled.result.value;
    }
  } finally {
    // Stop the other listings; not awaited, as a stream may be waiting on a page (bounded by timeouts).
    for (const iterator of running.values()) void iterator.return?.()?.catch(() => undefined);
    void source.return?.()?.catch(() => undefined);
  }
}
