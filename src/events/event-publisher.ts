/**
 * publishEvent(type, subject): logs the event (one `event` record) and queues one delivery per
 * webhook that wants its type on the `dcs-cleanup-webhooks` queue (keys
 * `<CLEANUP_PREFIX>:dcs-cleanup-webhooks:*`), consumed by the worker processes
 * (src/events/webhook-worker.ts), apart from the deletions. A delivery job carries the event body and
 * a digest naming the target, never its URL nor the secret. Publishing never throws: an event that cannot be queued is
 * logged, and whatever emitted it (a breaker, a run) carries on.
 */
import { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import type { Logger } from '../observability/logger.js';
import { buildEvent, type CleanupEvent, type EventType } from './event-types.js';
import { targetId, type WebhookTarget } from './webhook-targets.js';

export const WEBHOOK_QUEUE_NAME = 'dcs-cleanup-webhooks';
export const WEBHOOK_JOB_NAME = 'deliver';

/**
 * One delivery: the exact body to send (and sign), the target, and which event it is. The target is
 * named by a digest of its URL (webhook URLs often embed a token): the worker finds the URL in its own
 * configuration.
 */
export interface WebhookJobData {
  target: string;
  body: string;
  event_id: string;
  event_type: EventType;
}

export interface EventPublisher {
  /** Logs the event and queues its deliveries; resolves with the event (never rejects). */
  publishEvent(type: EventType, subject: Record<string, unknown>): Promise<CleanupEvent>;
  readonly queue: Queue;
  close(): Promise<void>;
}

export interface EventPublisherOptions {
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  targets: readonly WebhookTarget[];
  /** Deliveries of one event to one URL before it is given up (WEBHOOK_ATTEMPTS). */
  attempts: number;
  /** Exponential backoff base (WEBHOOK_BACKOFF_MS). */
  backoffMs: number;
}

export function createEventPublisher(options: EventPublisherOptions): EventPublisher {
  const { logger, targets } = options;
  const queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE_NAME, {
    connection: options.connection,
    prefix: options.prefix,
  });
  queue.on('error', () => undefined);
  return {
    queue,
    async publishEvent(type, subject) {
      const event = buildEvent(type, subject);
      const level =
        type === 'breaker.opened' || type.endsWith('failed') || type.startsWith('dead_') ? 'warn' : 'info';
      logger[level]({ event_type: type, event_id: event.id, subject }, 'event');
      const wanted = targets.filter((t) => t.events.has(type));
      if (wanted.length === 0) return event;
      const body = JSON.stringify(event);
      try {
        await queue.addBulk(
          wanted.map((target, n) => ({
            name: WEBHOOK_JOB_NAME,
            data: { target: targetId(target.url), body, event_id: event.id, event_type: type },
            opts: {
              jobId: `${event.id}-${n}`,
              attempts: options.attempts,
              backoff: { type: 'exponential', delay: options.backoffMs },
              removeOnComplete: { age: 24 * 3600, count: 10_000 },
              removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
            },
          })),
        );
      } catch (err) {
        logger.error(
          { event_type: type, event_id: event.id, err: (err as Error).message },
          'event not queued for its webhooks',
        );
      }
      return event;
    },
    close: () => queue.close(),
  };
}
