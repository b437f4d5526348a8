/**
 * Baseline: a BullMQ worker whose processor does nothing, on the same Redis, queue, concurrency and
 * worker settings as the pipeline's (lock duration, stalled checks, and the limiter the pipeline
 * always sets, here as high as the pipeline's "off"). Env: BENCH_PREFIX, BENCH_CONCURRENCY, and
 * BENCH_DELAY_MS: a processor that waits that long instead of answering at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { QUEUE_NAME } from '../../dist/queue/job-contract.js';
import { connectRedis } from './queue.js';

const delayMs = Number(process.env.BENCH_DELAY_MS ?? 0);
const connection = connectRedis();
const worker = new Worker(QUEUE_NAME, delayMs > 0 ? () => sleep(delayMs) : async () => undefined, {
  connection,
  prefix: process.env.BENCH_PREFIX,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 50),
  lockDuration: 30_000,
  stalledInterval: 30_000,
  maxStalledCount: 20,
  limiter: { max: 1_000_000_000, duration: 1_000 },
});
worker.on('error', (err) => process.stderr.write(`noop worker: ${err.message}\n`));
process.on('SIGTERM', () => {
  void worker.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
