/**
 * Run ends as events: `run.finished`, `run.cancelled` or `run.failed`, with the run record as the
 * subject, announced by whichever process ended the run (a worker counting the last job, an API or
 * CLI cancel, a failed listing).
 */
import type { Logger } from '../observability/logger.js';
import type { RunLedger } from '../runs/run-ledger.js';
import type { RunRecord } from '../runs/run-record.js';
import type { EventPublisher } from './event-publisher.js';
import type { EventType } from './event-types.js';

const EVENT_OF_STATE: Partial<Record<RunRecord['state'], EventType>> = {
  finished: 'run.finished',
  cancelled: 'run.cancelled',
  failed: 'run.failed',
};

/** Publishes every run end the ledger reports; the publisher is asked for on the first end only. */
export function announceRunEnds(
  ledger: Pick<RunLedger, 'onRunEnded'>,
  events: () => Pick<EventPublisher, 'publishEvent'>,
  logger: Logger,
): () => void {
  return ledger.onRunEnded((record) => {
    const type = EVENT_OF_STATE[record.state];
    if (type === undefined) return;
    try {
      // publishEvent never rejects: a delivery that cannot be queued is logged there.
      void events().publishEvent(type, { run: record });
    } catch (err) {
      // The webhook settings could not be read (a bad CLEANUP_WEBHOOKS_FILE): the run is ended all the same.
      logger.error({ run_id: record.run_id, err: (err as Error).message }, 'run end not announced');
    }
  });
}
