import type { JobsOptions, Queue } from 'bullmq';
import { openQueue } from './open-queue.js';
import type { RedisClient } from './redis-connection.js';
import {
  BACKOFF_TYPE,
  JOB_NAME,
  deleteJobDataSchema,
  JOB_SCHEMA_VERSION,
  QUEUE_NAME,
  buildJobId,
  buildLegacyJobId,
  parseTaskInput,
  jobPrioritySchema,
  type DeleteJobData,
  type JobPriority,
  type TaskInput,
} from './job-contract.js';
import { CleanupError } from '../errors.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';

export interface ProducerOptions {
  connection: RedisClient;
  prefix: string;
  /** Attempts BullMQ grants a job before the worker dead-letters it (default 8). */
  attempts?: number;
  /** How long a finished job is kept, and so how long a re-enqueue of its task counts as a duplicate. */
  dedupeWindowSec?: number;
  /**
   * Most finished jobs kept (default DEFAULT_KEEP_COMPLETED). The dedupe window holds only while
   * fewer jobs than this finish within it: keep at least rate x window (`keptCompletedJobs`).
   */
  keepCompleted?: number;
  /** Jobs per addBulk call (default 1000). */
  chunkSize?: number;
  /** Routes each task to its account's queue (src/accounts); without it every job goes to `dcs-cleanup`. */
  accounts?: AccountRouter | undefined;
}

/** The slice of the account registry a producer needs. */
export interface AccountRouter {
  /** The account of a task; INVALID_INPUT naming `account` for an unknown name. */
  resolve(projectId: string, explicit?: string): { name: string; queueName: string; isDefault: boolean };
  get(name: string, field?: string): unknown;
  /** Every account, the default first or not: each has one queue. */
  all(): readonly { queueName: string }[];
}

/** Labels every job of one enqueue call carries. */
export interface EnqueueLabels {
  reason?: string;
  source?: string;
  runId?: string;
  /** W3C traceparent of the request that asked (src/observability/trace-context.ts). */
  traceparent?: string;
  /** The lane: `urgent` goes before every waiting bulk job; default `bulk`. */
  priority?: JobPriority;
}

export interface EnqueuedJob {
  job_id: string;
  task_id: string;
  duplicate: boolean;
}

export interface EnqueueSummary {
  enqueued: number;
  duplicates: number;
  /** One entry per input task, in order (left empty when `collectJobs` is false). */
  jobs: EnqueuedJob[];
}

export interface EnqueueManyOptions extends EnqueueLabels {
  /** Keep the per-job list (default true); a million-line file turns it off to stay flat in memory. */
  collectJobs?: boolean;
  /** Called after each chunk is safely in Redis. */
  onChunk?: (summary: EnqueueSummary) => void;
}

export interface Producer {
  /** The default account's queue, `dcs-cleanup`. */
  readonly queue: Queue;
  /** Every account's queue, `dcs-cleanup` first (one without accounts). */
  queues(): Queue[];
  /** The queue a task's job goes to (its account's). */
  queueFor(task: TaskInput): Queue;
  /** Enqueues one task; a task already pending or recently finished is reported as a duplicate. */
  enqueue(task: TaskInput, labels?: EnqueueLabels): Promise<EnqueuedJob>;
  /**
   * Validates every task first (INVALID_INPUT naming `tasks[i].field`), then enqueues in chunks.
   * Accepts an async iterable for streamed input: then each chunk is validated as it arrives.
   */
  enqueueMany(
    tasks: Iterable<unknown> | AsyncIterable<unknown>,
    options?: EnqueueManyOptions,
  ): Promise<EnqueueSummary>;
  close(): Promise<void>;
}

/**
 * For each task, whether a job already holds it: 1 when its job (KEYS[2i-1]) exists, 2 when a job
 * under its legacy id (KEYS[2i], `del-<p>-<i>-<t>`) exists and its data names the same task (ARGV,
 * three per task): a legacy id is ambiguous, so the key alone proves nothing. 0 otherwise. One
 * command for a whole chunk, not a pipeline of 1,000 EXISTS whose client CPU cost is several times
 * larger (bench/README.md, 724e76d). The job keys share the prefix, so on Redis Cluster they share its hash tag, as BullMQ's scripts require.
 */
const EXISTS_SCRIPT = `local found = {}
for i = 1, #KEYS / 2 do
  local held = 0
  if redis.call('EXISTS', KEYS[2 * i - 1]) == 1 then
    held = 1
  else
    local data = redis.call('HGET', KEYS[2 * i], 'data')
    if data then
      local ok, d = pcall(cjson.decode, data)
      if ok and type(d) == 'table' and d.project_id == ARGV[3 * i - 2]
        and d.instance_id == ARGV[3 * i - 1] and d.task_id == ARGV[3 * i] then
        held = 2
      end
    end
  end
  found[i] = held
end
return found`;

export const DEFAULT_DEDUPE_WINDOW_SEC = 3_600;
/** Every job the default rate limit (50/s) lets finish within the default dedupe window (1 h). */
export const DEFAULT_KEEP_COMPLETED = 50 * DEFAULT_DEDUPE_WINDOW_SEC;

/** Job options every producer of this project uses (documented in the job contract). */
export function buildJobOptions(
  attempts: number,
  dedupeWindowSec: number,
  keepCompleted = DEFAULT_KEEP_COMPLETED,
): JobsOptions {
  return {
    attempts,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { age: dedupeWindowSec, count: keepCompleted },
    removeOnFail: { age: 7 * 24 * 3_600 },
  };
}

/**
 * Creates a producer on the `dcs-cleanup` queue, or on each task's account queue when `accounts` is
 * set. The connection stays the caller's.
 */
export function createProducer(options: ProducerOptions): Producer {
  const queues = new Map<string, Queue>();
  const queueOf = (name: string): Queue => {
    let q = queues.get(name);
    if (q === undefined) {
      q = openQueue(options.connection, options.prefix, name);
      queues.set(name, q);
    }
    return q;
  };
  const queue = queueOf(QUEUE_NAME);
  const router = options.accounts;
  /** Checks a task, and the account it names against the router. */
  const parseTask = (raw: unknown, where: string): TaskInput => {
    const task = parseTaskInput(raw, where);
    if (router !== undefined && task.account !== undefined) {
      router.get(task.account, where.endsWith(':') ? `${where} account` : `${where}.account`);
    }
    return task;
  };
  const jobOptions = buildJobOptions(
    options.attempts ?? DEFAULT_RETRY_POLICY.attempts,
    options.dedupeWindowSec ?? DEFAULT_DEDUPE_WINDOW_SEC,
    options.keepCompleted,
  );
  const chunkSize = options.chunkSize ?? 1_000;

  /** Adds a chunk, each task to its account's queue (one group per queue), results in input order. */
  async function addChunk(tasks: TaskInput[], labels: EnqueueLabels): Promise<EnqueuedJob[]> {
    // Without a router the account a task names is kept: the worker refuses one it does not serve.
    if (router === undefined) return addToQueue(QUEUE_NAME, (task) => task.account, tasks, labels);
    const groups = new Map<string, { account: string | undefined; indexes: number[] }>();
    tasks.forEach((task, i) => {
      const account = router.resolve(task.project_id, task.account);
      let group = groups.get(account.queueName);
      if (group === undefined) {
        // The default account's jobs name no account: renaming the default keeps them valid.
        group = { account: account.isDefault ? undefined : account.name, indexes: [] };
        groups.set(account.queueName, group);
      }
      group.indexes.push(i);
    });
    const out: EnqueuedJob[] = new Array<EnqueuedJob>(tasks.length);
    for (const [queueName, group] of groups) {
      const jobs = await addToQueue(
        queueName,
        () => group.account,
        group.indexes.map((i) => tasks[i]!),
        labels,
      );
      group.indexes.forEach((index, j) => (out[index] = jobs[j]!));
    }
    return out;
  }

  async function addToQueue(
    queueName: string,
    accountOf: (task: TaskInput) => string | undefined,
    tasks: TaskInput[],
    labels: EnqueueLabels,
  ): Promise<EnqueuedJob[]> {
    const keyPrefix = `${options.prefix}:${queueName}:`;
    const ids = tasks.map(buildJobId);
    // One command tells which tasks have a job already: those are duplicates and are not added again.
    const held = (await options.connection.eval(
      EXISTS_SCRIPT,
      ids.length * 2,
      ...tasks.flatMap((task, i) => [keyPrefix + ids[i]!, keyPrefix + buildLegacyJobId(task)]),
      ...tasks.flatMap((task) => [task.project_id, task.instance_id, task.task_id]),
    )) as number[];
    const seen = new Set<string>();
    const fresh: { name: string; data: DeleteJobData; opts: JobsOptions }[] = [];
    const now = new Date().toISOString();
    const jobs = tasks.map((task, i): EnqueuedJob => {
      const jobId = ids[i]!;
      const duplicate = held[i] !== 0 || seen.has(jobId);
      seen.add(jobId);
      // An urgent job goes to the head of the wait list (the job contract's priority).
      const urgent = (task.priority ?? labels.priority) === 'urgent';
      const opts = urgent ? { ...jobOptions, lifo: true, jobId } : { ...jobOptions, jobId };
      if (!duplicate)
        fresh.push({ name: JOB_NAME, data: toJobData(task, labels, now, accountOf(task), urgent), opts });
      // A task held by a legacy job is reported under that job's id, so its state can be looked up.
      return { job_id: held[i] === 2 ? buildLegacyJobId(task) : jobId, task_id: task.task_id, duplicate };
    });
    if (fresh.length > 0) await queueOf(queueName).addBulk(fresh);
    return jobs;
  }

  async function enqueueMany(
    tasks: Iterable<unknown> | AsyncIterable<unknown>,
    opts: EnqueueManyOptions = {},
  ): Promise<EnqueueSummary> {
    validateLabels(opts);
    const collect = opts.collectJobs ?? true;
    const total: EnqueueSummary = { enqueued: 0, duplicates: 0, jobs: [] };
    // A synchronous input is validated whole before anything is enqueued. One that can be iterated
    // again (an array, a list) is checked in a first pass and parsed again chunk by chunk, so no
    // checked copy of it is made; a one-shot iterator has to be copied.
    const isSync = Symbol.iterator in Object(tasks);
    const reiterable = isSync && !isIterator(tasks);
    if (reiterable) validateAll(tasks as Iterable<unknown>, parseTask, false);
    const parsed = isSync && !reiterable;
    const source = parsed ? validateAll(tasks as Iterable<unknown>, parseTask, true) : tasks;
    let chunk: TaskInput[] = [];
    let index = 0;
    const flush = async (tasksToAdd: TaskInput[]): Promise<void> => {
      const jobs = await addChunk(tasksToAdd, opts);
      const dup = jobs.filter((j) => j.duplicate).length;
      total.duplicates += dup;
      total.enqueued += jobs.length - dup;
      if (collect) for (const j of jobs) total.jobs.push(j);
      opts.onChunk?.({ enqueued: jobs.length - dup, duplicates: dup, jobs });
    };
    // The next chunk is read and checked while the previous one is in Redis. One chunk in flight at
    // most: a chunk's duplicate check runs after the previous chunk's jobs are added, as before.
    let inFlight: Promise<void> | undefined;
    try {
      for await (const raw of source) {
        chunk.push(parsed ? (raw as TaskInput) : parseTask(raw, `tasks[${index}]`));
        index++;
        if (chunk.length >= chunkSize) {
          await inFlight;
          inFlight = flush(chunk);
          // Handled here too: it may fail while the next chunk is still being read.
          inFlight.catch(() => undefined);
          chunk = [];
        }
      }
      await inFlight;
    } catch (err) {
      await inFlight?.catch(() => undefined);
      throw err;
    }
    if (chunk.length > 0) await flush(chunk);
    return total;
  }

  return {
    queue,
    queues: () => [
      queue,
      ...(router?.all() ?? []).map((a) => queueOf(a.queueName)).filter((q) => q !== queue),
    ],
    queueFor: (task) =>
      router === undefined ? queue : queueOf(router.resolve(task.project_id, task.account).queueName),
    async enqueue(task, labels = {}) {
      validateLabels(labels);
      const [job] = await addChunk([parseTask(task, 'task')], labels);
      return job!;
    },
    enqueueMany,
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

/** Labels end up in every job: a bad one would dead-letter them all as invalid_job, so refuse it here. */
function validateLabels(labels: EnqueueLabels): void {
  const checks = [
    ['reason', deleteJobDataSchema.shape.reason, labels.reason],
    ['source', deleteJobDataSchema.shape.source, labels.source],
    ['run_id', deleteJobDataSchema.shape.run_id, labels.runId],
    ['traceparent', deleteJobDataSchema.shape.traceparent, labels.traceparent],
    ['priority', jobPrioritySchema.optional(), labels.priority],
  ] as const;
  for (const [field, schema, value] of checks) {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new CleanupError('INVALID_INPUT', `${field}: ${result.error.issues[0]?.message ?? 'invalid'}`, {
        field,
      });
    }
  }
}

/** An iterator (a generator, say) yields its items once; an iterable that is not one can be read again. */
function isIterator(value: unknown): boolean {
  return typeof (value as { next?: unknown }).next === 'function';
}

/** Checks every task; keeps the checked copies only when asked (a one-shot iterator). */
function validateAll(
  tasks: Iterable<unknown>,
  parse: (raw: unknown, where: string) => TaskInput,
  keep: boolean,
): TaskInput[] {
  const out: TaskInput[] = [];
  let index = 0;
  for (const raw of tasks) {
    const task = parse(raw, `tasks[${index++}]`);
    if (keep) out.push(task);
  }
  return out;
}

function toJobData(
  task: TaskInput,
  labels: EnqueueLabels,
  enqueuedAt: string,
  account: string | undefined,
  urgent: boolean,
): DeleteJobData {
  const data: DeleteJobData = {
    schema_version: JOB_SCHEMA_VERSION,
    project_id: task.project_id,
    instance_id: task.instance_id,
    task_id: task.task_id,
    enqueued_at: enqueuedAt,
  };
  if (task.region !== undefined) data.region = task.region;
  if (account !== undefined) data.account = account;
  if (labels.reason !== undefined) data.reason = labels.reason;
  if (labels.source !== undefined) data.source = labels.source;
  if (labels.runId !== undefined) data.run_id = labels.runId;
  if (labels.traceparent !== undefined) data.traceparent = labels.traceparent;
  if (urgent) data.priority = 'urgent';
  return data;
}
