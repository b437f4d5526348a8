/**
 * Composition root: builds what a command or a test needs from a Config, lazily, and closes it all.
 * Tests reuse it with their own prefix and logger.
 */
import type { Redis } from 'ioredis';
import { keptCompletedJobs, type Config } from './config/config.js';
import { CleanupError } from './errors.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createRedisConnection, type ConnectionRole } from './queue/redis-connection.js';
import { createProducer, type Producer, type ProducerOptions } from './queue/producer.js';
import { createDeadLetters, type DeadLetters } from './queue/dead-letters.js';

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly connection: Redis;
  readonly prefix: string;
  producer(): Producer;
  deadLetters(): DeadLetters;
  close(): Promise<void>;
}

export interface AppOptions {
  role: ConnectionRole;
  logger?: Logger;
}

export function createApp(config: Config, options: AppOptions): App {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const connection = createRedisConnection(config.REDIS_URL, options.role);
  // ioredis reports connection errors as events; without a listener they would print unhandled.
  connection.on('error', () => undefined);
  let producer: Producer | undefined;
  let deadLetters: DeadLetters | undefined;
  return {
    config,
    logger,
    connection,
    prefix: config.CLEANUP_PREFIX,
    producer: () => (producer ??= createProducer(buildProducerOptions(config, connection))),
    deadLetters: () => (deadLetters ??= createDeadLetters({ connection, prefix: config.CLEANUP_PREFIX })),
    async close() {
      await producer?.close();
      await deadLetters?.close();
      connection.disconnect();
    },
  };
}

/** The producer options the configuration sets: prefix, dedupe window and finished jobs kept. */
export function buildProducerOptions(config: Config, connection: Redis): ProducerOptions {
  return {
    connection,
    prefix: config.CLEANUP_PREFIX,
    dedupeWindowSec: config.JOBS_DEDUPE_WINDOW_SEC,
    keepCompleted: keptCompletedJobs(config),
  };
}

/** Resolves once Redis answers PING; REDIS_UNAVAILABLE after `timeoutMs`. */
export async function pingRedis(connection: Redis, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // ioredis reports "max retries per request" for a refused connection: keep the real cause to show.
  let lastError: Error | undefined;
  const onError = (err: Error): void => {
    lastError = err;
  };
  connection.on('error', onError);
  try {
    await Promise.race([
      connection.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    const where = `${connection.options.host ?? '?'}:${connection.options.port ?? '?'}`;
    throw new CleanupError(
      'REDIS_UNAVAILABLE',
      `Redis at ${where} did not answer (${(lastError ?? (err as Error)).message}); is REDIS_URL right?`,
      {
        cause: err,
      },
    );
  } finally {
    clearTimeout(timer);
    connection.off('error', onError);
  }
}
