/** The webhook deliveries for `dcs-cleanup status`: pending, retrying, given up, and the last failure. */
import { Queue } from 'bullmq';
import type { RedisClient } from '../queue/redis-connection.js';
import { WEBHOOK_QUEUE_NAME, type WebhookJobData } from './event-publisher.js';

export interface WebhookStatus {
  /** Waiting for a first delivery, or being delivered. */
  pending: number;
  /** Failed at least once, waiting for their next attempt. */
  retrying: number;
  /** Given up after every attempt (kept 7 days). */
  given_up: number;
  /** Delivered (kept 24 hours). */
  delivered: number;
  last_failure: { event_id: string; event_type: string; error: string; at: string } | null;
}

export async function getWebhookStatus(connection: RedisClient, prefix: string): Promise<WebhookStatus> {
  const queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE_NAME, { connection, prefix });
  queue.on('error', () => undefined);
  try {
    const [counts, [last]] = await Promise.all([
      queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed'),
      queue.getFailed(0, 0),
    ]);
    return {
      pending: (counts.wait ?? 0) + (counts.active ?? 0),
      retrying: counts.delayed ?? 0,
      given_up: counts.failed ?? 0,
      delivered: counts.completed ?? 0,
      last_failure: last
        ? {
            event_id: last.data.event_id,
            event_type: last.data.event_type,
            error: (last.failedReason ?? '').slice(0, 300),
            at: new Date(last.finishedOn ?? last.timestamp).toISOString(),
          }
        : null,
    };
  } finally {
    await queue.close();
  }
}
