import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueStatus } from '../queue/status.js';

/**
 * The Prometheus metrics of one process. Label children are bound once and reused:
 * the worker touches them on every job, so the hot path does no label lookups.
 */
export interface Metrics {
  registry: Registry;
  // The job path's metrics also carry `account` (src/observability/account-metrics.ts binds it).
  deletions: Counter<'outcome' | 'account'>;
  requestDuration: Histogram<'status' | 'account'>;
  /** Label it with {@link retryReasonLabel} or `busy`, never with text from DCS. */
  retries: Counter<'reason' | 'account'>;
  throttleWaits: Counter<'account'>;
  throttleWaitSeconds: Counter<'account'>;
  circuitOpen: Gauge<'account'>;
  /** The rate gate's current rate (fixed, or what auto found), by account. */
  rateLimit: Gauge<'account'>;
  queueJobs: Gauge<'state' | 'account'>;
  deadLetters: Gauge;
  deadLettersDropped: Counter<'reason'>;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'dcs_cleanup_' });
  const registers = [registry];
  return {
    registry,
    deletions: new Counter({
      name: 'dcs_cleanup_deletions_total',
      help: 'Jobs finished, by outcome (deleted, already_gone, dead_lettered) and account.',
      labelNames: ['outcome', 'account'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'dcs_cleanup_request_duration_seconds',
      help: 'DCS DELETE request duration, by HTTP status ("network" for transport errors).',
      labelNames: ['status', 'account'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    retries: new Counter({
      name: 'dcs_cleanup_retries_total',
      help: 'Retries scheduled, by reason (http_503, network_reset, busy...: a fixed set) and account.',
      labelNames: ['reason', 'account'],
      registers,
    }),
    throttleWaits: new Counter({
      name: 'dcs_cleanup_throttle_waits_total',
      help: 'DCS answers 429 (throttled): each slows the rate limiter (or, with the limit off, pauses the queue).',
      labelNames: ['account'],
      registers,
    }),
    throttleWaitSeconds: new Counter({
      name: 'dcs_cleanup_throttle_wait_seconds_total',
      help: 'Seconds the queue was rate-limited after 429 answers.',
      labelNames: ['account'],
      registers,
    }),
    rateLimit: new Gauge({
      name: 'dcs_cleanup_rate_limit_per_second',
      help: 'DELETEs per second the shared rate limiter allows now, by account (fixed, or found by auto).',
      labelNames: ['account'],
      registers,
    }),
    circuitOpen: new Gauge({
      name: 'dcs_cleanup_circuit_open',
      help: '1 while the queue is paused by the circuit breaker (auth or configuration failure), else 0; by account.',
      labelNames: ['account'],
      registers,
    }),
    queueJobs: new Gauge({
      name: 'dcs_cleanup_queue_jobs',
      help: "Jobs in the deletion queue, by state and account (each account's queue; sampled at scrape time).",
      labelNames: ['state', 'account'],
      registers,
    }),
    deadLetters: new Gauge({
      name: 'dcs_cleanup_dead_letters',
      help: 'Records in the dead-letter queue (sampled at scrape time).',
      registers,
    }),
    deadLettersDropped: new Counter({
      name: 'dcs_cleanup_dead_letters_dropped_total',
      help: 'Dead letters removed by retention, by the limit that dropped them (max_age, max_count).',
      labelNames: ['reason'],
      registers,
    }),
  };
}

/**
 * The values of the `reason` label of `dcs_cleanup_retries_total`: a fixed set. The classifier's
 * reason may be an error code DCS sent (any text): a label value from it would let a server grow
 * the series without bound, and put server text into every scrape.
 */
export const RETRY_REASONS = [
  'network_timeout',
  'network_reset',
  'network_refused',
  'network_dns',
  'network_aborted',
  'network_other',
  'http_500',
  'http_502',
  'http_503',
  'http_504',
  'http_5xx',
  'http_other',
  'busy',
  'credentials_unavailable',
] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];

const isRetryReason = (value: string): value is RetryReason =>
  (RETRY_REASONS as readonly string[]).includes(value);

/** The retry label of a DELETE's outcome: from its transport error kind or HTTP status only. */
export function retryReasonLabel(outcome: {
  status?: number | undefined;
  networkError?: string | undefined;
}): RetryReason {
  if (outcome.networkError !== undefined) {
    const label = `network_${outcome.networkError}`;
    return isRetryReason(label) ? label : 'network_other';
  }
  const status = outcome.status ?? 0;
  const label = `http_${status}`;
  if (isRetryReason(label)) return label;
  return status >= 500 && status <= 599 ? 'http_5xx' : 'http_other';
}

/** The gauges sampled from Redis at scrape time, from one getQueueStatus() answer. */
export function recordQueueStatus(metrics: Metrics, status: QueueStatus): void {
  for (const state of ['waiting', 'active', 'delayed', 'completed', 'failed'] as const) {
    metrics.queueJobs.set({ state }, status[state]);
  }
  metrics.deadLetters.set(status.dead_letters);
  metrics.circuitOpen.set(status.circuit.open ? 1 : 0);
}
