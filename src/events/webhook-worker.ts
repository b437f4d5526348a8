/**
 * Delivers webhook events from the `dcs-cleanup-webhooks` queue, in every worker process, apart from
 * the deletions (its own BullMQ worker, small concurrency): a slow or failing receiver never delays
 * a DELETE. Each delivery POSTs the event body with
 *
 *   Content-Type: application/json
 *   X-Cleanup-Event-Id: <event id>         the same on every delivery of one event (receivers dedupe)
 *   X-Cleanup-Event-Type: <type>
 *   X-Cleanup-Signature: sha256=<hex HMAC-SHA256 of the raw body with CLEANUP_WEBHOOK_SECRET>
 *
 * A 2xx answer delivers it; anything else (or a timeout) is retried by BullMQ with exponential
 * backoff (WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS: about 11 h by default), then given up: logged, and
 * counted in `dcs_cleanup_webhook_deliveries_total{result="given_up"}`. Redirects are not followed.
 */
import { createHmac } from 'node:crypto';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Counter, type Registry } from 'prom-client';
import { request } from 'undici';
import type { RedisClient } from '../queue/redis-connection.js';
import type { Logger } from '../observability/logger.js';
import { WEBHOOK_QUEUE_NAME, type WebhookJobData } from './event-publisher.js';
import { displayUrl, targetId, type WebhookTarget } from './webhook-targets.js';

/** `sha256=<hex>`: the X-Cleanup-Signature of `body`. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** `dcs_cleanup_webhook_deliveries_total`, on `registry` (none: counted, not exported). */
export function createWebhookMetrics(registry: Registry | undefined): Counter<'result'> {
  return new Counter({
    name: 'dcs_cleanup_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by result: delivered, failed (retried later), given_up.',
    labelNames: ['result'] as const,
    registers: registry ? [registry] : [],
  });
}

export interface WebhookWorkerOptions {
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  targets: readonly WebhookTarget[];
  secret: string;
  timeoutMs: number;
  concurrency: number;
  /** Where `dcs_cleanup_webhook_deliveries_total` is registered (the worker's /metrics). */
  registry?: Registry | undefined;
}

export interface WebhookWorker {
  readonly worker: Worker<WebhookJobData>;
  close(): Promise<void>;
}

export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { logger, secret } = options;
  const urls = new Map(options.targets.map((t) => [targetId(t.url), t.url]));
  const deliveries = createWebhookMetrics(options.registry);

  async function deliver(job: Job<WebhookJobData>): Promise<{ status: number }> {
    const { body, event_id, event_type, target } = job.data;
    const url = urls.get(target);
    if (url === undefined) throw new UnrecoverableError('this webhook is no longer configured');
    const answer = await request(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'dcs-cleanup-webhooks',
        'x-cleanup-event-id': event_id,
        'x-cleanup-event-type': event_type,
        'x-cleanup-signature': signWebhookBody(body, secret),
      },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await answer.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    if (answer.statusCode < 200 || answer.statusCode >= 300) {
      throw new Error(`the receiver answered HTTP ${answer.statusCode}`);
    }
    deliveries.inc({ result: 'delivered' });
    logger.info(
      {
        event_id,
        event_type,
        url: displayUrl(url),
        status: answer.statusCode,
        attempt: job.attemptsMade + 1,
      },
      'webhook delivered',
    );
    return { status: answer.statusCode };
  }

  const worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE_NAME, deliver, {
    connection: options.connection,
    prefix: options.prefix,
    name: `${hostname()}:${process.pid}:webhooks`,
    concurrency: options.concurrency,
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'webhook worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    const url = urls.get(job.data.target);
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    deliveries.inc({ result: final ? 'given_up' : 'failed' });
    const record = {
      event_id: job.data.event_id,
      event_type: job.data.event_type,
      url: url === undefined ? null : displayUrl(url),
      attempt: job.attemptsMade,
      err: err.message,
    };
    if (final) logger.error(record, 'webhook delivery given up');
    else logger.warn(record, 'webhook delivery failed: retried later');
  });
  return { worker, close: () => worker.close() };
}
