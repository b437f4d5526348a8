import type { Queue } from 'bullmq';
import { openQueue } from '../../src/queue/open-queue.js';
import { afterAll, beforeAll } from 'vitest';
import { createProducer, type Producer } from '../../src/index.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from './redis-prefix.js';

export interface ProducerFixture {
  readonly prefix: string;
  connection: RedisClient;
  producer: Producer;
  /** The deletion queue under the same prefix, to look at what was enqueued. */
  queue: Queue;
}

/**
 * A producer on the test Redis under a unique prefix (`label` in it), opened before the file's
 * tests and closed after them, its keys deleted. Read the fields inside tests, not at load time.
 */
export function useProducer(label: string, chunkSize: number): ProducerFixture {
  const fixture = { prefix: uniquePrefix(label) } as ProducerFixture;
  beforeAll(() => {
    fixture.connection = createRedisConnection(REDIS_URL, 'producer');
    fixture.producer = createProducer({ connection: fixture.connection, prefix: fixture.prefix, chunkSize });
    fixture.queue = openQueue(fixture.connection, fixture.prefix);
  });
  afterAll(async () => {
    await fixture.producer.close();
    await fixture.queue.close();
    fixture.connection.disconnect();
    await deletePrefix(fixture.prefix);
  });
  return fixture;
}
