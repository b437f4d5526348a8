/**
 * Where events go: CLEANUP_WEBHOOK_URL (one URL, every event type) or CLEANUP_WEBHOOKS_FILE, a YAML
 * or JSON file of several, each with the event types it wants:
 *
 *   webhooks:
 *     - url: https://chat.example.com/hooks/dcs
 *       events: [breaker.opened, breaker.closed, dead_letters.threshold]
 *     - url: https://ci.example.com/dcs-cleanup
 *       events: ['*']
 *
 * Every delivery is signed with CLEANUP_WEBHOOK_SECRET (src/events/webhook-delivery.ts).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { readStructuredFile } from '../config/structured-file.js';
import { EVENT_TYPES, type EventType } from './event-types.js';

export interface WebhookTarget {
  url: string;
  /** The event types sent there. */
  events: ReadonlySet<EventType>;
}

const urlSchema = z
  .string()
  .refine(
    (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
    'must be an absolute http:// or https:// URL',
  );

export const webhooksFileSchema = z
  .object({
    webhooks: z
      .array(
        z
          .object({
            url: urlSchema,
            events: z
              .array(
                z.enum(['*', ...EVENT_TYPES], { error: `must be * or one of ${EVENT_TYPES.join(', ')}` }),
              )
              .min(1, 'name at least one event type, or *'),
          })
          .strict(),
      )
      .min(1, 'list at least one webhook'),
  })
  .strict();

const ALL = new Set<EventType>(EVENT_TYPES);

/** The configured targets (none without a webhook); INVALID_CONFIG naming a bad field of the file. */
export function resolveWebhookTargets(
  config: Pick<Config, 'CLEANUP_WEBHOOK_URL' | 'CLEANUP_WEBHOOKS_FILE'>,
): WebhookTarget[] {
  if (config.CLEANUP_WEBHOOK_URL !== undefined) return [{ url: config.CLEANUP_WEBHOOK_URL, events: ALL }];
  if (config.CLEANUP_WEBHOOKS_FILE === undefined) return [];
  const file = readStructuredFile(config.CLEANUP_WEBHOOKS_FILE, webhooksFileSchema, 'CLEANUP_WEBHOOKS_FILE');
  return file.webhooks.map((w) => ({
    url: w.url,
    events: w.events.includes('*') ? ALL : new Set(w.events.filter((e): e is EventType => e !== '*')),
  }));
}

/** How a delivery job names its target: 16 hex digits of the SHA-256 of the URL. */
export const targetId = (url: string): string =>
  createHash('sha256').update(url, 'utf8').digest('hex').slice(0, 16);

/** The URL as logs show it: origin only (a path or query may hold a token). */
export const displayUrl = (url: string): string => new URL(url).origin;
