/**
 * The settings of scoped API tokens, webhooks and dead-letter alerts: one section of the one
 * configuration schema (config.ts spreads it). Files named here are read by src/api/token-file.ts and
 * src/events/webhook-targets.ts; only their paths are configuration.
 */
import { z } from 'zod';
import { intFrom, optionalString } from './schema-parts.js';

const httpUrl = optionalString.refine(
  (v) => v === undefined || (URL.canParse(v) && /^https?:$/.test(new URL(v).protocol)),
  'must be an absolute http:// or https:// URL',
);

export const eventsSettingsShape = {
  CLEANUP_API_TOKENS_FILE: optionalString.describe(
    'YAML or JSON file of scoped API tokens (SHA-256 digests, each with a label and scopes); reloaded on change.',
  ),
  CLEANUP_WEBHOOK_URL: httpUrl.describe('One webhook URL that receives every event type.'),
  CLEANUP_WEBHOOKS_FILE: optionalString.describe(
    'YAML or JSON file of several webhooks, each with its URL and event types (instead of CLEANUP_WEBHOOK_URL).',
  ),
  CLEANUP_WEBHOOK_SECRET: optionalString.describe(
    'Key of the X-Cleanup-Signature HMAC-SHA256 of every webhook body; required with a webhook. Never logged.',
  ),
  WEBHOOK_ATTEMPTS: intFrom(12, 1, 100).describe(
    'Deliveries of one webhook event before it is given up (logged, counted in metrics).',
  ),
  WEBHOOK_BACKOFF_MS: intFrom(10_000, 100, 3_600_000).describe(
    'Exponential backoff base between deliveries: the n-th retry waits base x 2^(n-1) ms (12 attempts from 10 s: about 11 h).',
  ),
  WEBHOOK_TIMEOUT_MS: intFrom(10_000, 100, 120_000).describe('Deadline of one webhook delivery.'),
  WEBHOOK_CONCURRENCY: intFrom(2, 1, 32).describe('Webhook deliveries in flight per worker process.'),
  DEAD_LETTER_ALERT_COUNT: intFrom(0, 0, 100_000_000).describe(
    'Emit `dead_letters.threshold` when the dead letters reach this count; 0 turns the check off.',
  ),
  DEAD_LETTER_ALERT_GROWTH: intFrom(0, 0, 100_000_000).describe(
    'Emit `dead_letters.threshold` when this many dead letters or more were added within one check interval; 0 turns it off.',
  ),
  DEAD_LETTER_ALERT_INTERVAL_SEC: intFrom(60, 5, 86_400).describe(
    'How often one worker process checks the dead-letter thresholds.',
  ),
};

const _eventsSettingsSchema = z.object(eventsSettingsShape);
export type EventsSettings = z.output<typeof _eventsSettingsSchema>;

/** Webhook settings that do not go together. */
export function checkEventsSettings(config: EventsSettings, ctx: z.RefinementCtx): void {
  if (config.CLEANUP_WEBHOOK_URL !== undefined && config.CLEANUP_WEBHOOKS_FILE !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['CLEANUP_WEBHOOKS_FILE'],
      message: 'set CLEANUP_WEBHOOK_URL or CLEANUP_WEBHOOKS_FILE, not both',
    });
  }
  const hasWebhook = config.CLEANUP_WEBHOOK_URL !== undefined || config.CLEANUP_WEBHOOKS_FILE !== undefined;
  if (hasWebhook && config.CLEANUP_WEBHOOK_SECRET === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['CLEANUP_WEBHOOK_SECRET'],
      message: 'required with CLEANUP_WEBHOOK_URL or CLEANUP_WEBHOOKS_FILE (receivers check the signature)',
    });
  }
}
