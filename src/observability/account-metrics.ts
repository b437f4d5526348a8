/**
 * One account's view of the process metrics: the job path's counters, histogram, breaker gauge and
 * queue gauge with `account="<name>"` added to every sample, so one account's failures show as its own. The
 * worker pool of each account queue gets its view (src/queue/account-queues.ts); the series stay
 * few, as account names come from the accounts file, never from a job.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from './metrics.js';

type Labels = Record<string, string | number>;

function bindCounter<L extends string>(metric: Counter<L>, account: string): Counter<L> {
  const view = Object.create(metric) as Counter<L>;
  const inc = (a?: Labels | number, b?: number): void =>
    typeof a === 'object'
      ? metric.inc({ ...a, account } as Partial<Record<L, string | number>>, b)
      : metric.inc({ account } as Partial<Record<L, string | number>>, a);
  view.inc = inc as Counter<L>['inc'];
  return view;
}

function bindGauge<L extends string>(metric: Gauge<L>, account: string): Gauge<L> {
  const view = Object.create(metric) as Gauge<L>;
  const set = (a: Labels | number, b?: number): void =>
    typeof a === 'object'
      ? metric.set({ ...a, account } as Partial<Record<L, string | number>>, b ?? 0)
      : metric.set({ account } as Partial<Record<L, string | number>>, a);
  view.set = set as Gauge<L>['set'];
  return view;
}

function bindHistogram<L extends string>(metric: Histogram<L>, account: string): Histogram<L> {
  const view = Object.create(metric) as Histogram<L>;
  const observe = (a: Labels | number, b?: number): void =>
    typeof a === 'object'
      ? metric.observe({ ...a, account } as Partial<Record<L, string | number>>, b ?? 0)
      : metric.observe({ account } as Partial<Record<L, string | number>>, a);
  view.observe = observe as Histogram<L>['observe'];
  return view;
}

/** `metrics` with `account` on every job-path sample; the registry and the rest are shared. */
export function withAccountLabel(metrics: Metrics, account: string): Metrics {
  return {
    ...metrics,
    deletions: bindCounter(metrics.deletions, account),
    requestDuration: bindHistogram(metrics.requestDuration, account),
    retries: bindCounter(metrics.retries, account),
    throttleWaits: bindCounter(metrics.throttleWaits, account),
    throttleWaitSeconds: bindCounter(metrics.throttleWaitSeconds, account),
    circuitOpen: bindGauge(metrics.circuitOpen, account),
    queueJobs: bindGauge(metrics.queueJobs, account),
  };
}
