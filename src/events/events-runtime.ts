/**
 * The event side of a process, from the configuration: the publisher (every process that emits:
 * App.events()), and in the worker processes the webhook deliveries and the dead-letter threshold
 * check. Without a webhook, events are still log records; nothing is delivered.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { RedisClient } from '../queue/redis-connection.js';
import type { Logger } from '../observability/logger.js';
import { createEventPublisher, type EventPublisher } from './event-publisher.js';
import { startDeadLetterAlerts, type DeadLetterAlerts } from './dead-letter-alerts.js';
import { createWebhookWorker, type WebhookWorker } from './webhook-worker.js';
import { resolveWebhookTargets } from './webhook-targets.js';

export interface EventsDeps {
  connection: RedisClient;
  prefix: string;
  logger: Logger;
}

/** The publisher the configuration describes; INVALID_CONFIG for a bad CLEANUP_WEBHOOKS_FILE. */
export function createConfiguredPublisher(config: Config, deps: EventsDeps): EventPublisher {
  return createEventPublisher({
    ...deps,
    targets: resolveWebhookTargets(config),
    attempts: config.WEBHOOK_ATTEMPTS,
    backoffMs: config.WEBHOOK_BACKOFF_MS,
  });
}

export interface EventConsumers {
  webhooks: WebhookWorker | undefined;
  alerts: DeadLetterAlerts;
  close(): Promise<void>;
}

/** What a worker process runs for events: webhook deliveries (when configured) and the dead-letter check. */
export function startEventConsumers(
  config: Config,
  deps: EventsDeps & {
    events: Pick<EventPublisher, 'publishEvent'>;
    deadLetterCount: () => Promise<number>;
    registry?: Registry | undefined;
  },
): EventConsumers {
  const targets = resolveWebhookTargets(config);
  const secret = config.CLEANUP_WEBHOOK_SECRET;
  const webhooks =
    targets.length > 0 && secret !== undefined
      ? createWebhookWorker({
          connection: deps.connection,
          prefix: deps.prefix,
          logger: deps.logger,
          targets,
          secret,
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          concurrency: config.WEBHOOK_CONCURRENCY,
          registry: deps.registry,
        })
      : undefined;
  const alerts = startDeadLetterAlerts({
    connection: deps.connection,
    prefix: deps.prefix,
    logger: deps.logger,
    count: deps.deadLetterCount,
    events: deps.events,
    threshold: config.DEAD_LETTER_ALERT_COUNT,
    growth: config.DEAD_LETTER_ALERT_GROWTH,
    intervalMs: config.DEAD_LETTER_ALERT_INTERVAL_SEC * 1000,
  });
  return {
    webhooks,
    alerts,
    async close() {
      alerts.stop();
      await webhooks?.close();
    },
  };
}
