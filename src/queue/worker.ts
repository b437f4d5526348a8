import { Queue, type Worker } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { QUEUE_NAME, BACKOFF_TYPE } from './job-contract.js';
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
import { createRateGate, type RateGate } from './rate-control/rate-gate.js';
import type { AutoRateSettings } from './rate-control/rate-script.js';

const UNLIMITED_RATE = 1_000_000_000;
const DEFAULT_RETENTION: DeadLetterRetention = { maxAgeMs: 30 * 86_400_000, maxCount: 100_000 };

export interface CleanupWorkerOptions {
  /** A `worker`-role connection (maxRetriesPerRequest null); the caller owns it. */
  connection: RedisClient;
  prefix: string;
  getClient(region: string | undefined): TaskDeleter;
  /** DCS_PROJECT_ID in DCS_REGION: probed instead of a refused job's own pair (see circuit-probe.ts). */
  trusted?: TrustedPair | undefined;
  logger: Logger;
  metrics?: Metrics;
  concurrency?: number;
  /**
   * DELETE requests per second across every worker of this prefix and account (smoothly spaced by a
   * limiter shared through Redis), `auto` to find the API's limit; 0 turns the limit off.
   */
  rateLimitPerSecond?: number | 'auto';
  /** `auto` settings (WORKER_RATE_AUTO_*). */
  autoRate?: Partial<AutoRateSettings>;
  /** The account whose limit this queue's DELETEs count against (default `default`). */
  account?: string;
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
  /** The account's rate gate; undefined when the limit is off. */
  readonly rate: RateGate | undefined;
  /** Resolves once nothing is waiting, active or delayed (or the breaker holds the queue paused: `paused`). */
  waitUntilIdle(pollMs?: number): Promise<'idle' | 'paused'>;
  /** Stops fetching, lets in-flight jobs finish within the shutdown timeout, then aborts them. */
  close(): Promise<void>;
}

/** Starts a worker pool on the `dcs-cleanup` queue. */
export async function createCleanupWorker(options: CleanupWorkerOptions): Promise<CleanupWorker> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const { connection, prefix, logger } = options;
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  // The worker's own 'error' below logs connection trouble once; unheard, BullMQ would print it
  // again for this queue with its stack on stderr.
  queue.on('error', () => undefined);
  const deadLetters = createDeadLetters({ connection, prefix });
  const circuit = await createCircuitBreaker({ connection, prefix, queue, listen: true });
  const getClient = (region: string | undefined): TaskDeleter => options.getClient(region);
  const trusted = options.trusted && createTrustedCheck(options.trusted, getClient);
  const limit = options.rateLimitPerSecond ?? 50;
  const account = options.account ?? 'default';
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
  // would make BullMQ build an AbortController per job, and a listener on a fresh signal costs
  // ~15 us of CPU against ~1.5 us on this long-lived one. Every request in flight listens to it.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);

  const worker = new TolerantWorker(QUEUE_NAME, (job, token) => processor(job, token, shutdown.signal), {
    connection,
    prefix,
    name: `${hostname()}:${process.pid}`,
    concurrency: options.concurrency ?? 32,
    // The rate gate spaces the DELETEs, not BullMQ's fixed windows. A limiter no one reaches is still
    // set: BullMQ honours a queue-wide rateLimit() (the 429 handling when the limit is off) only for
    // workers that have one.
    limiter: { max: UNLIMITED_RATE, duration: 1_000 },
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
