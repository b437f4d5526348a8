import type { Queue, Worker } from 'bullmq';
import { openQueue } from './open-queue.js';
import type { RedisClient } from './redis-connection.js';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { QUEUE_NAME, type DeleteJobData } from './job-contract.js';
import { createDeadLetters, type DeadLetters } from './dead-letters.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { createProcessor } from './processor.js';
import { createBackoffStrategy } from './job-run.js';
import { createStuckJobSweep } from './stuck-job-sweep.js';
import { createDeadLetterTrim, type DeadLetterRetention } from './dead-letter-retention.js';
import { TolerantWorker } from './unreadable-jobs.js';
import type { TaskDeleter } from './credential-gate.js';
import { createTrustedCheck, probeOpenCircuit, type TrustedPair } from './circuit-probe.js';
import type { RetryPolicy } from './retry-policy.js';
import { DEFAULT_ACCOUNT_NAME } from '../config/accounts-file.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RunJobEnds } from '../runs/run-job-hook.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { createRateGate, type RateGate } from './rate-control/rate-gate.js';
import type { AutoRateSettings } from './rate-control/rate-script.js';

const UNLIMITED_RATE = 1_000_000_000;

/**
 * Everything the pool needs, resolved: the defaults come from the configuration schema and are
 * applied once, in src/app/worker-settings.ts (the composition root), not here.
 */
export interface CleanupWorkerOptions {
  /** A `worker`-role connection (maxRetriesPerRequest null); the caller owns it. */
  connection: RedisClient;
  prefix: string;
  /** The account queue to work (src/queue/account-queues.ts); default `dcs-cleanup`. */
  queueName?: string;
  /** Why a job may not run on this queue (an account it does not serve), for an invalid_job dead letter. */
  accountProblem?: ((data: DeleteJobData) => string | undefined) | undefined;
  getClient(region: string | undefined): TaskDeleter;
  /** DCS_PROJECT_ID in DCS_REGION: probed instead of a refused job's own pair (see circuit-probe.ts). */
  trusted?: TrustedPair | undefined;
  logger: Logger;
  metrics?: Metrics | undefined;
  concurrency: number;
  /**
   * DELETE requests per second across every worker of this prefix and account (smoothly spaced by a
   * limiter shared through Redis), `auto` to find the API's limit; 0 turns the limit off.
   */
  rateLimitPerSecond: number | 'auto';
  /** `auto` settings (WORKER_RATE_AUTO_*). */
  autoRate?: Partial<AutoRateSettings> | undefined;
  /** The account whose limit this queue's DELETEs count against (default `default`). */
  account?: string | undefined;
  policy: RetryPolicy;
  /** How often a process probes DCS while the breaker is open. */
  probeIntervalMs: number;
  /** On close, how long in-flight jobs may run before their requests are aborted. */
  shutdownTimeoutMs: number;
  /** BullMQ lock duration: a killed worker's jobs go back to wait after about this long. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How often failed and unreadable jobs are swept into the dead letters. */
  sweepIntervalMs: number;
  /** Dead-letter retention; 0 turns a limit off. */
  deadLetterRetention: DeadLetterRetention;
  /** How often one worker process applies the retention. */
  trimIntervalMs: number;
  /** The run ledger job ends are counted in (default: one under `prefix`). */
  runs?: RunJobEnds | undefined;
  /** Announces `breaker.opened` and `breaker.closed` (src/events); default: no events. */
  events?: Pick<EventPublisher, 'publishEvent'> | undefined;
}

export interface CleanupWorker {
  readonly worker: Worker;
  readonly queue: Queue;
  readonly deadLetters: DeadLetters;
  readonly circuit: CircuitBreaker;
  /** The account's rate gate; undefined when the limit is off. */
  readonly rate: RateGate | undefined;
  /** Resolves once nothing is waiting, active or delayed (or the breaker holds the queue paused: `paused`). */
  waitUntilIdle(pollMs?: number): Promise<'idle' | 'paused'>;
  /** Stops fetching, lets in-flight jobs finish within the shutdown timeout, then aborts them. */
  close(): Promise<void>;
}

/** Starts a worker pool on one account's queue (`dcs-cleanup` unless `queueName` says otherwise). */
export async function createCleanupWorker(options: CleanupWorkerOptions): Promise<CleanupWorker> {
  const { connection, prefix, logger, policy } = options;
  const queueName = options.queueName ?? QUEUE_NAME;
  // The worker's own 'error' below logs connection trouble once.
  const queue = openQueue(connection, prefix, queueName);
  const deadLetters = createDeadLetters({ connection, prefix });
  const { events } = options;
  const circuit = await createCircuitBreaker({
    connection,
    prefix,
    queue,
    listen: true,
    ...(events ? { onTransition: (t, state) => void events.publishEvent(`breaker.${t}`, { ...state }) } : {}),
  });
  const getClient = (region: string | undefined): TaskDeleter => options.getClient(region);
  const trusted = options.trusted && createTrustedCheck(options.trusted, getClient);
  const limit = options.rateLimitPerSecond;
  const account = options.account ?? DEFAULT_ACCOUNT_NAME;
  const rate =
    limit === 0
      ? undefined
      : createRateGate({
          connection,
          prefix,
          account,
          limit,
          auto: options.autoRate,
          onRate: (perSecond) => options.metrics?.rateLimit.set({ account }, perSecond),
        });
  const processor = createProcessor({
    ...options,
    trusted,
    queue,
    deadLetters,
    circuit,
    policy,
    metrics: options.metrics,
    rate,
  });
  // One signal aborts every in-flight request at shutdown. A processor taking BullMQ's own signal
  // would make BullMQ build an AbortController per job, and a listener on a fresh signal costs ten
  // times one on this long-lived one (bench/README.md). Every request in flight listens to it.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);

  const worker = new TolerantWorker(queueName, (job, token) => processor(job, token, shutdown.signal), {
    connection,
    prefix,
    name: `${hostname()}:${process.pid}`,
    concurrency: options.concurrency,
    // The rate gate spaces the DELETEs, not BullMQ's fixed windows. A limiter no one reaches is still
    // set: BullMQ honours a queue-wide rateLimit() (the 429 handling when the limit is off) only for
    // workers that have one.
    limiter: { max: UNLIMITED_RATE, duration: 1_000 },
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    // A DELETE is idempotent: a job whose worker died is safe to run again, many times.
    maxStalledCount: 20,
    settings: { backoffStrategy: createBackoffStrategy(policy, logger) },
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  const sweep = createStuckJobSweep({
    connection,
    queue,
    deadLetters,
    logger,
    metrics: options.metrics,
    runs: options.runs,
  });
  const sweeper = setInterval(() => void sweep().catch(() => undefined), options.sweepIntervalMs);
  sweeper.unref();
  const { trimIntervalMs } = options;
  const trim = createDeadLetterTrim({
    connection,
    deadLetters,
    retention: options.deadLetterRetention,
    logger,
    metrics: options.metrics,
    lockMs: trimIntervalMs,
  });
  const trimmer = setInterval(() => {
    trim().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'dead letter trim failed'));
  }, trimIntervalMs);
  trimmer.unref();

  circuit.startProbing(async (state) => {
    const outcome = await probeOpenCircuit(state, getClient, trusted);
    logger.warn(
      { ok: outcome.ok, http_status: outcome.status ?? null, error_code: outcome.errorCode ?? null },
      'circuit probe',
    );
    if (outcome.ok) {
      options.metrics?.circuitOpen.set(0);
      logger.warn({ action: state.action }, 'credentials proved again: queue resumed');
    }
    return outcome.ok;
  }, options.probeIntervalMs);

  let closing: Promise<void> | undefined;
  return {
    worker,
    queue,
    deadLetters,
    circuit,
    rate,
    async waitUntilIdle(pollMs = 250) {
      for (let quiet = 0; ;) {
        if (circuit.isOpen()) return 'paused';
        const counts = await queue.getJobCounts(
          'wait',
          'active',
          'delayed',
          'prioritized',
          'waiting-children',
        );
        const busy = Object.values(counts).some((n) => n > 0);
        quiet = busy ? 0 : quiet + 1;
        if (quiet >= 2) {
          await sweep();
          return 'idle';
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        clearInterval(trimmer);
        const timer = setTimeout(() => shutdown.abort('shutdown'), options.shutdownTimeoutMs);
        await worker.close();
        clearTimeout(timer);
        await circuit.stop();
        await deadLetters.close();
        await queue.close();
      })();
      return closing;
    },
  };
}
