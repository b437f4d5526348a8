import { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import { QUEUE_NAME } from './job-contract.js';

/**
 * The one way this project opens a BullMQ queue (the deletion queue unless `name` says otherwise:
 * the dead letters, the schedules). Its connection errors are heard and dropped: the call that needs
 * Redis fails on its own (and a worker's own 'error' logs them once); unheard, BullMQ would print
 * each one again with its stack on stderr. The connection stays the caller's.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- BullMQ's own default for untyped job data
export function openQueue<Data = any>(
  connection: RedisClient,
  prefix: string,
  name: string = QUEUE_NAME,
): Queue<Data> {
  const queue = new Queue<Data>(name, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}
