import { Queue, type Worker } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { QUEUE_NAME, BACKOFF_TYPE, type DeleteJobData } from './job-contract.js';
import { createDeadLetters, type DeadLetters } from './dead-letters.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import { createProcessor, RetryLaterError } from './processor.js';
import { createStuckJobSweep } from './stuck-job-sweep.js';
import { createDeadLetterTrim, type DeadLetterRetention } from './dead-letter-retention.js';
import { TolerantWorker } from './unreadable-jobs.js';
import type { TaskDeleter } from './credential-gate.js';
import { createTrustedCheck, probeOpenCircuit, type TrustedPair } from './circuit-probe.js';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, type RetryPolicy } from './retry-policy.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

const UNLIMITED_RATE = 1_000_000_000;
const DEFAULT_RETENTION: DeadLetterRetention = { maxAgeMs: 30 * 86_400_000, maxCount: 100_000 };

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
  metrics?: Metrics;
  concurrency?: number;
  /** DELETE requests per second across every worker of this prefix; 0 turns the limit off. */
  rateLimitPerSecond?: number;
  policy?: Partial<RetryPolicy>;
  /** How often a process probes DCS while the breaker is open (default 2 min). */
  probeIntervalMs?: number;
  /** On close, how long in-flight jobs may run before their requests are aborted (default 10 s). */
  shutdownTimeoutMs?: number;
  /** BullMQ lock duration: a killed worker's jobs go back to wait after about this long (default 30 s). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How often failed and unreadable jobs are swept into the dead letters (default 30 s). */
  sweepIntervalMs?: number;
  /** Dead-letter retention (default 30 days, 100,000 records); 0 turns a limit off. */
  deadLetterRetention?: DeadLetterRetention;
  /** How often one worker process applies the retention (default 60 s). */
  trimIntervalMs?: number;
}

export interface CleanupWorker {
  readonly worker: Worker;
  readonly queue: Queue;
  readonly deadLetters: DeadLetters;
  readonly circuit: CircuitBreaker;
  /** Resolves once nothing is waiting, active or delayed (or the breaker holds the queue paused: `paused`). */
  waitUntilIdle(pollMs?: number): Promise<'idle' | 'paused'>;
  /** Stops fetching, lets in-flight jobs finish within the shutdown timeout, then aborts them. */
  close(): Promise<void>;
}

/** Starts a worker pool on one account's queue (`dcs-cleanup` unless `queueName` says otherwise). */
export async function createCleanupWorker(options: CleanupWorkerOptions): Promise<CleanupWorker> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const { connection, prefix, logger } = options;
  const queueName = options.queueName ?? QUEUE_NAME;
  const queue = new Queue(queueName, { connection, prefix });
  // The worker's own 'error' below logs connection trouble once; unheard, BullMQ would print it
  // again for this queue with its stack on stderr.
  queue.on('error', () => undefined);
  const deadLetters = createDeadLetters({ connection, prefix });
  const circuit = await createCircuitBreaker({ connection, prefix, queue, listen: true });
  const getClient = (region: string | undefined): TaskDeleter => options.getClient(region);
  const trusted = options.trusted && createTrustedCheck(options.trusted, getClient);
  const processor = createProcessor({
    ...options,
    trusted,
    queue,
    deadLetters,
    circuit,
    policy,
    metrics: options.metrics,
  });
  const rate = options.rateLimitPerSecond ?? 50;
  // One signal aborts every in-flight request at shutdown. A processor taking BullMQ's own signal
  // would make BullMQ build an AbortController per job, and a listener on a fresh signal costs
  // ~15 us of CPU against ~1.5 us on this long-lived one. Every request in flight listens to it.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);

  const worker = new TolerantWorker(queueName, (job, token) => processor(job, token, shutdown.signal), {
    connection,
    prefix,
    name: `${hostname()}:${process.pid}`,
    concurrency: options.concurrency ?? 32,
    // Even with the rate limit off a limiter is set: BullMQ honours a queue-wide rateLimit() (our 429
    // handling) only for workers that have one, so "off" is a limit no one reaches.
    limiter: { max: rate > 0 ? rate : UNLIMITED_RATE, duration: 1_000 },
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? options.lockDurationMs ?? 30_000,
    // A DELETE is idempotent: a job whose worker died is safe to run again, many times.
    maxStalledCount: 20,
    settings: {
      backoffStrategy: (attemptsMade, type, err) => {
        if (err instanceof RetryLaterError) return err.delayMs;
        return type === BACKOFF_TYPE ? backoffDelayMs(policy, attemptsMade) : 0;
      },
    },
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  const sweep = createStuckJobSweep({ connection, queue, deadLetters, logger, metrics: options.metrics });
  const sweeper = setInterval(() => void sweep().catch(() => undefined), options.sweepIntervalMs ?? 30_000);
  sweeper.unref();
  const trimIntervalMs = options.trimIntervalMs ?? 60_000;
  const trim = createDeadLetterTrim({
    connection,
    deadLetters,
    retention: options.deadLetterRetention ?? DEFAULT_RETENTION,
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
  }, options.probeIntervalMs ?? 120_000);

  let closing: Promise<void> | undefined;
  return {
    worker,
    queue,
    deadLetters,
    circuit,
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
        const timer = setTimeout(() => shutdown.abort('shutdown'), options.shutdownTimeoutMs ?? 10_000);
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
