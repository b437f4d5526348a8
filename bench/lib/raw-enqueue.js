/**
 * Baseline of the enqueue benchmark: read the CSV line by line and add the jobs with BullMQ's
 * addBulk, 1,000 at a time, with the producer's job id, data and options; nothing else (no
 * validation, no duplicate check). Usage: node raw-enqueue.js <file.csv>; env BENCH_PREFIX.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { openQueue } from '../../dist/queue/open-queue.js';
import { DEFAULT_DEDUPE_WINDOW_SEC, buildJobOptions } from '../../dist/queue/producer.js';
import { DEFAULT_RETRY_POLICY } from '../../dist/queue/retry-policy.js';
import { buildJob, connectRedis } from './queue.js';

const connection = connectRedis();
const queue = openQueue(connection, process.env.BENCH_PREFIX);
const options = buildJobOptions(DEFAULT_RETRY_POLICY.attempts, DEFAULT_DEDUPE_WINDOW_SEC);
const now = new Date().toISOString();
let chunk = [];
let added = 0;
let header = true;
for await (const line of createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity })) {
  if (header) {
    header = false;
    continue;
  }
  const [project_id, instance_id, task_id] = line.split(',');
  chunk.push(buildJob({ project_id, instance_id, task_id }, options, now));
  if (chunk.length === 1000) {
    await queue.addBulk(chunk);
    added += chunk.length;
    chunk = [];
  }
}
if (chunk.length > 0) await queue.addBulk(chunk);
added += chunk.length;
await queue.close();
connection.disconnect();
process.stdout.write(`${JSON.stringify({ enqueued: added })}\n`);
