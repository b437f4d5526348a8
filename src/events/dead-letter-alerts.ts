/**
 * `dead_letters.threshold`: checked periodically by one worker process at a time (a Redis lock per
 * interval). Emitted when the dead letters reach DEAD_LETTER_ALERT_COUNT (once per crossing: again
 * only after the count fell below it), or when DEAD_LETTER_ALERT_GROWTH or more were added since the
 * previous check. The previous count and the crossing live in Redis, so a restart does not re-alert.
 */
import type { RedisClient } from '../queue/redis-connection.js';
import type { Logger } from '../observability/logger.js';
import type { EventPublisher } from './event-publisher.js';

export interface DeadLetterAlertOptions {
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  /** The current number of dead letters. */
  count(): Promise<number>;
  events: Pick<EventPublisher, 'publishEvent'>;
  /** 0: no count threshold. */
  threshold: number;
  /** 0: no growth threshold. */
  growth: number;
  intervalMs: number;
}

export interface DeadLetterAlerts {
  /** One check now (the timer calls it); resolves whether an event was emitted. */
  check(): Promise<boolean>;
  stop(): void;
}

export function startDeadLetterAlerts(options: DeadLetterAlertOptions): DeadLetterAlerts {
  const { connection, threshold, growth, intervalMs } = options;
  const base = `${options.prefix}:events:dead-letters`;
  const enabled = threshold > 0 || growth > 0;

  async function check(): Promise<boolean> {
    if (!enabled) return false;
    // One process per interval; the lock expires a little early so the next tick finds it free.
    const lock = await connection.set(
      `${base}:lock`,
      String(process.pid),
      'PX',
      Math.max(intervalMs - 500, 500),
      'NX',
    );
    if (lock !== 'OK') return false;
    const count = await options.count();
    const [previousText, crossedText] = await Promise.all([
      connection.getset(`${base}:last-count`, String(count)),
      connection.get(`${base}:above-threshold`),
    ]);
    const previous = previousText === null ? undefined : Number(previousText);
    const added = previous === undefined ? 0 : count - previous;
    const reasons: string[] = [];
    if (threshold > 0) {
      if (count >= threshold && crossedText === null) {
        reasons.push('count');
        await connection.set(`${base}:above-threshold`, '1');
      } else if (count < threshold && crossedText !== null) {
        await connection.del(`${base}:above-threshold`);
      }
    }
    if (growth > 0 && added >= growth) reasons.push('growth');
    if (reasons.length === 0) return false;
    await options.events.publishEvent('dead_letters.threshold', {
      dead_letters: count,
      added_since_last_check: added,
      interval_seconds: Math.round(intervalMs / 1000),
      threshold: threshold > 0 ? threshold : null,
      growth_threshold: growth > 0 ? growth : null,
      reasons,
    });
    return true;
  }

  const timer = enabled
    ? setInterval(() => {
        check().catch((err: unknown) =>
          options.logger.warn({ err: (err as Error).message }, 'dead letter threshold check failed'),
        );
      }, intervalMs)
    : undefined;
  timer?.unref();
  return { check, stop: () => clearInterval(timer) };
}
