/**
 * createApp: what every command shares, built from a Config lazily and closed at once (a logger, the
 * Redis connection, the producer, the dead letters, the run ledger, the event publisher, the accounts). Tests reuse it with their own prefix and logger.
 */
import {
  closeRedisConnection,
  createRedisConnection,
  describeRedis,
  type ConnectionRole,
  type RedisClient,
} from '../queue/redis-connection.js';
import { keptCompletedJobs, type Config } from '../config/config.js';
import { CleanupError } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createProducer, type Producer, type ProducerOptions } from '../queue/producer.js';
import { createDeadLetters, type DeadLetters } from '../queue/dead-letters.js';
import { createRunLedger, type RunLedger } from '../runs/run-ledger.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { createConfiguredPublisher } from '../events/events-runtime.js';
import { announceRunEnds } from '../events/run-events.js';
import { createAccountRegistry, type AccountRegistry } from '../accounts/account-registry.js';

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly connection: RedisClient;
  readonly prefix: string;
  producer(): Producer;
  deadLetters(): DeadLetters;
  /** The accounts (CLEANUP_ACCOUNTS_FILE, or `default` from the variables), checked on first call. */
  accounts(): AccountRegistry;
  /** The run ledger (RUNS_RETENTION_DAYS, RUNS_MAX_COUNT); its `onRunEnded` hears this process's run ends. */
  runs(): RunLedger;
  /** publishEvent(type, subject): log records and webhooks (src/events); built on first use. */
  events(): EventPublisher;
  close(): Promise<void>;
}

export interface AppOptions {
  role: ConnectionRole;
  logger?: Logger;
}

/** How long a close waits for BullMQ before the connection is ended under it. */
export const CLOSE_WAIT_MS = 5_000;

/**
 * Resolves when `work` settles (its failure ignored) or after `ms`, whichever comes first. A BullMQ
 * close can wait for ever on a cluster connection caught in a failover; bounding it lets
 * `App.close()` end the connection, and with it whatever the close still waited for.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

export function createApp(config: Config, options: AppOptions): App {
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const connection = createRedisConnection(config, options.role);
  // ioredis reports connection errors as events; without a listener they would print unhandled.
  connection.on('error', () => undefined);
  let producer: Producer | undefined;
  let deadLetters: DeadLetters | undefined;
  let runs: RunLedger | undefined;
  let events: EventPublisher | undefined;
  let accounts: AccountRegistry | undefined;
  const accountsOf = (): AccountRegistry => (accounts ??= createAccountRegistry(config, { logger }));
  const publisher = (): EventPublisher =>
    (events ??= createConfiguredPublisher(config, { connection, prefix: config.CLEANUP_PREFIX, logger }));
  return {
    config,
    logger,
    connection,
    prefix: config.CLEANUP_PREFIX,
    producer: () =>
      (producer ??= createProducer({ ...buildProducerOptions(config, connection), accounts: accountsOf() })),
    deadLetters: () => (deadLetters ??= createDeadLetters({ connection, prefix: config.CLEANUP_PREFIX })),
    runs: () => {
      if (runs) return runs;
      runs = createRunLedger({
        connection,
        prefix: config.CLEANUP_PREFIX,
        retention: { days: config.RUNS_RETENTION_DAYS, maxCount: config.RUNS_MAX_COUNT },
      });
      announceRunEnds(runs, publisher, logger);
      return runs;
    },
    events: publisher,
    accounts: accountsOf,
    async close() {
      await settleWithin(
        Promise.all([producer?.close(), deadLetters?.close(), events?.close(), accounts?.close()]),
        CLOSE_WAIT_MS,
      );
      closeRedisConnection(connection);
    },
  };
}

/** The producer options the configuration sets: prefix, dedupe window and finished jobs kept. */
export function buildProducerOptions(config: Config, connection: RedisClient): ProducerOptions {
  return {
    connection,
    prefix: config.CLEANUP_PREFIX,
    dedupeWindowSec: config.JOBS_DEDUPE_WINDOW_SEC,
    keepCompleted: keptCompletedJobs(config),
  };
}

/** Resolves once Redis answers PING; REDIS_UNAVAILABLE after `timeoutMs`. */
export async function pingRedis(connection: RedisClient, timeoutMs = 5_000): Promise<void> {
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
    const where = describeRedis(connection);
    throw new CleanupError(
      'REDIS_UNAVAILABLE',
      `Redis at ${where} did not answer (${(lastError ?? (err as Error)).message}); is the Redis configuration (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS) right?`,
      {
        cause: err,
      },
    );
  } finally {
    clearTimeout(timer);
    connection.off('error', onError);
  }
}
