/**
 * The events dcs-cleanup announces, as log records (`event`) and to webhooks. Every event is one
 * JSON body: `{ type, id, time, subject }` (the subject is the run record, the breaker state...).
 */
import { randomUUID } from 'node:crypto';

export const EVENT_TYPES = [
  'run.finished',
  'run.cancelled',
  'run.failed',
  'breaker.opened',
  'breaker.closed',
  'dead_letters.threshold',
  'schedule.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface CleanupEvent {
  type: EventType;
  /** `evt_<uuid>`: also the X-Cleanup-Event-Id header, the same on every delivery of the event. */
  id: string;
  /** RFC 3339, when the event happened. */
  time: string;
  subject: Record<string, unknown>;
}

export function buildEvent(
  type: EventType,
  subject: Record<string, unknown>,
  now = new Date(),
): CleanupEvent {
  return { type, id: `evt_${randomUUID()}`, time: now.toISOString(), subject };
}
