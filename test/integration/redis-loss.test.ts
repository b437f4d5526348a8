/**
 * Redis loss (issue 7): a private redis-server with an append-only file (`appendfsync always`) is
 * killed with SIGKILL in the middle of 1,000 deletions and started again on the same port and
 * directory. Producer and worker processes reconnect by themselves; every task ends deleted or
 * already gone. Without persistence the queue is lost with Redis: the second test shows the
 * documented recovery (enqueue the same input again: the deletions are idempotent).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Job, Queue } from 'bullmq';
import { openQueue } from '../../src/queue/open-queue.js';
import { startEmulator, DEMO_CREDENTIALS, type Emulator } from '../../src/emulator/emulator.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import {
  DEAD_LETTER_QUEUE_NAME,
  type DeleteJobResult,
  type TaskInput,
} from '../../src/queue/job-contract.js';
import { startCli, type CliProcess } from '../support/cli-process.js';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { findUnstructuredOutput } from '../support/process-output.js';
import { uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

const PROJECT_ID = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

interface World {
  redis: PrivateRedis;
  emulator: Emulator;
  connection: RedisClient;
  producer: Producer;
  queue: Queue;
  prefix: string;
  workers: CliProcess[];
}

let world: World | undefined;

afterEach(async () => {
  if (world === undefined) return;
  const w = world;
  world = undefined;
  for (const p of w.workers) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(w.workers.map((p) => p.exited));
  await w.producer.close().catch(() => undefined);
  await w.queue.close().catch(() => undefined);
  w.connection.disconnect();
  await w.emulator.close();
  await w.redis.stop();
});

async function createWorld(appendOnly: boolean): Promise<World> {
  const redis = await startPrivateRedis({ appendOnly });
  // Some latency keeps a thousand deletions busy for a few seconds: long enough to kill Redis mid-run.
  const emulator = await startEmulator({
    rateLimitPerSecond: 0,
    faults: { latencyMs: 15, jitterMs: 15, seed: 3 },
  });
  // The producer role: a call fails after a few reconnect attempts instead of hanging, the
  // connection keeps reconnecting in the background.
  const connection = createRedisConnection(redis.url, 'producer');
  connection.on('error', () => undefined);
  const prefix = uniquePrefix(appendOnly ? 'redis-aof' : 'redis-volatile');
  const queue = openQueue(connection, prefix);
  return {
    redis,
    emulator,
    connection,
    producer: createProducer({ connection, prefix }),
    queue,
    prefix,
    workers: [],
  };
}

function seedTasks(w: World, count: number): TaskInput[] {
  const instance = w.emulator.addInstance(PROJECT_ID);
  const tasks = w.emulator.addTasks(
    instance.instance_id,
    Array.from({ length: count }, () => ({ status: 'SUCCESS' as const })),
  );
  return tasks.map((t) => ({ project_id: PROJECT_ID, instance_id: instance.instance_id, task_id: t.id }));
}

function startWorker(w: World, extra: string[] = []): CliProcess {
  const env = {
    REDIS_URL: w.redis.url,
    CLEANUP_PREFIX: w.prefix,
    CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
    CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
    DCS_ENDPOINT: w.emulator.url,
    LOG_LEVEL: 'warn',
    RETRY_BACKOFF_BASE_MS: '50',
    RETRY_BACKOFF_CAP_MS: '1000',
  };
  const worker = startCli(
    ['worker', '--concurrency', '16', '--rate-limit', '0', '--lock-duration-ms', '2000', ...extra],
    env,
  );
  w.workers.push(worker);
  return worker;
}

async function pendingJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** Polls until no selected task is left on the emulator and the queue holds nothing pending. */
async function waitUntilDone(w: World, tasks: TaskInput[], timeoutMs: number): Promise<void> {
  const ids = new Set(tasks.map((t) => t.task_id));
  await waitFor(
    async () => {
      for (const p of w.workers) {
        if (p.child.exitCode !== null)
          throw new Error(`a worker exited by itself (${p.child.exitCode}): ${p.stderr().slice(-2_000)}`);
      }
      const left = w.emulator.remainingTasks().filter((t) => ids.has(t.id)).length;
      return left === 0 && (await pendingJobs(w.queue).catch(() => 1)) === 0;
    },
    'every task deleted and nothing pending',
    timeoutMs,
    200,
  );
}

async function stopWorkers(w: World): Promise<(number | NodeJS.Signals)[]> {
  for (const p of w.workers) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  return Promise.all(w.workers.map((p) => p.exited));
}

async function outcomes(queue: Queue): Promise<Record<string, number>> {
  const completed: Job[] = await queue.getJobs(['completed'], 0, -1);
  const out: Record<string, number> = {};
  for (const job of completed) {
    const outcome = (job.returnvalue as DeleteJobResult).outcome;
    out[outcome] = (out[outcome] ?? 0) + 1;
  }
  return out;
}

async function deadLetterCount(w: World): Promise<number> {
  const dead = openQueue(w.connection, w.prefix, DEAD_LETTER_QUEUE_NAME);
  try {
    return await dead.getJobCountByTypes('wait', 'delayed', 'completed', 'failed');
  } finally {
    await dead.close();
  }
}

describe.skipIf(!hasRedisServer())('Redis loss (needs redis-server on the PATH; .ci/run installs it)', () => {
  it('loses nothing when Redis with appendfsync always is killed with SIGKILL mid-run and restarted', async () => {
    const w = (world = await createWorld(true));
    const first = seedTasks(w, 1_000);
    expect(await w.producer.enqueueMany(first)).toMatchObject({ enqueued: 1_000, duplicates: 0 });
    startWorker(w);
    startWorker(w);
    await waitFor(
      () => w.emulator.stats().deletions.count >= 300,
      '300 deletions before the kill',
      60_000,
      20,
    );

    const killedAt = Date.now();
    const deletedBeforeKill = w.emulator.stats().deletions.count;
    await w.redis.kill('SIGKILL');
    // While Redis is away a producer call fails with an error instead of hanging...
    const during = seedTasks(w, 10);
    const failure = await w.producer.enqueueMany(during).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure, 'an enqueue while Redis is down').toBeInstanceOf(Error);
    const deletedDuringOutage = w.emulator.stats().deletions.count - deletedBeforeKill;
    await new Promise((r) => setTimeout(r, Math.max(0, 2_000 - (Date.now() - killedAt))));
    await w.redis.restart();
    const outageMs = Date.now() - killedAt;

    // ...and the same producer, on the same connection object, works again once Redis is back.
    const second = seedTasks(w, 100);
    const again = await waitFor(
      () => w.producer.enqueueMany([...during, ...second]).catch(() => undefined),
      'the producer to reconnect',
      20_000,
      200,
    );
    expect(again).toMatchObject({ enqueued: 110, duplicates: 0 });

    const all = [...first, ...during, ...second];
    await waitUntilDone(w, all, 90_000);
    const exits = await stopWorkers(w);
    expect(exits).toEqual([0, 0]);
    // Through the outage the workers kept to JSON log lines: no raw error or stack trace on stderr.
    for (const p of w.workers) expect(findUnstructuredOutput(p.stdout(), p.stderr())).toEqual([]);

    expect(await w.queue.getCompletedCount()).toBe(all.length);
    expect(await w.queue.getFailedCount()).toBe(0);
    expect(await deadLetterCount(w)).toBe(0);
    const byOutcome = await outcomes(w.queue);
    expect(Object.keys(byOutcome).every((o) => o === 'deleted' || o === 'already_gone')).toBe(true);
    console.log(
      [
        `redis loss (appendfsync always): ${all.length} deletions, Redis SIGKILLed after ${deletedBeforeKill}, down ${outageMs} ms`,
        `  ${deletedDuringOutage} deletions answered while Redis was down; outcomes ${JSON.stringify(byOutcome)}`,
        `  jobs lost 0, dead letters 0; an enqueue during the outage failed with ${(failure as { code?: string }).code ?? (failure as Error).name}`,
      ].join('\n'),
    );
  }, 180_000);

  it('without persistence the queue dies with Redis, and enqueueing the same input again finishes the work', async () => {
    const w = (world = await createWorld(false));
    const tasks = seedTasks(w, 300);
    await w.producer.enqueueMany(tasks);
    startWorker(w);
    await waitFor(
      () => w.emulator.stats().deletions.count >= 100,
      '100 deletions before the kill',
      60_000,
      20,
    );
    await w.redis.kill('SIGKILL');
    await w.redis.restart();
    // Everything Redis held is gone: the jobs not yet run are lost, with no trace of them.
    await waitFor(
      () =>
        w.queue.count().then(
          () => true,
          () => false,
        ),
      'the producer to reconnect',
      20_000,
      200,
    );
    expect(await pendingJobs(w.queue)).toBe(0);
    const left = w.emulator.remainingTasks().length;
    expect(left).toBeGreaterThan(0);

    // The documented recovery: enqueue the same input again; what was already deleted answers already_gone.
    const again = await w.producer.enqueueMany(tasks);
    expect(again.enqueued).toBe(tasks.length);
    await waitUntilDone(w, tasks, 60_000);
    expect(await stopWorkers(w)).toEqual([0]);
    for (const p of w.workers) expect(findUnstructuredOutput(p.stdout(), p.stderr())).toEqual([]);
    const byOutcome = await outcomes(w.queue);
    expect(byOutcome.deleted).toBe(left);
    expect((byOutcome.already_gone ?? 0) + byOutcome.deleted!).toBe(tasks.length);
    console.log(
      `redis loss (no persistence): ${left} of ${tasks.length} tasks were left when Redis died; re-enqueued: ${JSON.stringify(byOutcome)}`,
    );
  }, 120_000);
});
