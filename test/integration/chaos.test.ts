/**
 * The chaos run (issue 7): 5,000 deletions against an emulator that answers 20% 5xx, 5% 429, 2%
 * connection resets and 1% never, with jittered latency; two worker processes, one of them killed
 * with SIGKILL about every 1,000 deletions and restarted; every Redis client connection killed once
 * mid-run. It runs on a private redis-server, so killing "every connection" touches no one else.
 *
 * The retry budget it checks, per task (docs/reliability.md):
 *   DELETE requests <= (1 + RETRY_IN_PROCESS_RETRIES) x runs of its job           (one run, one budget)
 *   runs            <= attempts + 429 answers for the task + times the job stalled (killed worker, lost lock)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Queue } from 'bullmq';
import { openQueue } from '../../src/queue/open-queue.js';
import { startEmulator, DEMO_CREDENTIALS, type Emulator } from '../../src/emulator/emulator.js';
import type { FaultOptions } from '../../src/emulator/fault-injector.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { DEFAULT_RETRY_POLICY } from '../../src/queue/retry-policy.js';
import {
  DEAD_LETTER_QUEUE_NAME,
  QUEUE_NAME,
  buildJobId,
  type DeleteJobResult,
} from '../../src/queue/job-contract.js';
import { startCli, type CliProcess } from '../support/cli-process.js';
import { hasRedisServer, startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { findUnstructuredOutput } from '../support/process-output.js';
import { uniquePrefix } from '../support/redis-prefix.js';

const TASKS = 5_000;
const INSTANCES = 5;
/** Tasks per instance that are not selected: they must all survive the run. */
const BYSTANDERS_PER_INSTANCE = 100;
const KILL_EVERY = 1_000;
const REDIS_KILL_AT = 2_500;
/** BullMQ names a worker's blocking connection `<prefix>:<base64 of the queue name>:w:<worker name>`. */
const DELETION_QUEUE_B64 = Buffer.from(QUEUE_NAME).toString('base64');
const DEADLINE_MS = 170_000;
const IN_PROCESS_RETRIES = 3;

const FAULTS: FaultOptions = {
  statusRates: { 500: 0.05, 502: 0.05, 503: 0.05, 504: 0.05 },
  throttleRate: 0.05,
  resetRate: 0.02,
  hangRate: 0.01,
  latencyMs: 2,
  jitterMs: 6,
  seed: 20_240_607,
};

/** Production shapes with test-sized waits: a 429 pauses the queue 20-80 ms, not 2-5 s. */
const POLICY_ENV = {
  RETRY_IN_PROCESS_RETRIES: String(IN_PROCESS_RETRIES),
  RETRY_IN_PROCESS_BASE_MS: '10',
  RETRY_IN_PROCESS_CAP_MS: '100',
  RETRY_BACKOFF_BASE_MS: '50',
  RETRY_BACKOFF_CAP_MS: '1000',
  RETRY_BUSY_FLOOR_MS: '50',
  RETRY_BUSY_JITTER_MS: '50',
  RETRY_THROTTLE_MIN_MS: '20',
  RETRY_THROTTLE_MAX_MS: '80',
  // A request that never answers costs one second, then counts as a timeout and is retried.
  DCS_HEADERS_TIMEOUT_MS: '1000',
  DCS_BODY_TIMEOUT_MS: '1000',
};

interface TaskTally {
  requests: number;
  throttled: number;
}

const REDIS_SERVER = hasRedisServer();

describe.skipIf(!REDIS_SERVER)('chaos run (needs redis-server on the PATH; .ci/run installs it)', () => {
  let redis: PrivateRedis;
  let emulator: Emulator;
  let connection: RedisClient;
  let producer: Producer;
  let queue: Queue;
  const prefix = uniquePrefix('chaos');
  const tally = new Map<string, TaskTally>();
  const workers: { name: string; process: CliProcess; killedByUs: boolean }[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    emulator = await startEmulator({
      rateLimitPerSecond: 0,
      faults: FAULTS,
      onRequest: (entry) => {
        if (entry.route !== 'delete') return;
        const taskId = entry.path.slice(entry.path.lastIndexOf('/') + 1);
        const t = tally.get(taskId) ?? { requests: 0, throttled: 0 };
        t.requests++;
        if (entry.status === 429) t.throttled++;
        tally.set(taskId, t);
      },
    });
    connection = createRedisConnection(redis.url, 'worker');
    connection.on('error', () => undefined);
    producer = createProducer({ connection, prefix });
    queue = openQueue(connection, prefix);
  });

  afterAll(async () => {
    for (const w of workers) if (w.process.child.exitCode === null) w.process.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.process.exited));
    await producer?.close();
    await queue?.close();
    connection?.disconnect();
    await emulator?.close();
    await redis?.stop();
  });

  function startWorker(name: string): void {
    const env = {
      REDIS_URL: redis.url,
      CLEANUP_PREFIX: prefix,
      CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
      CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
      DCS_ENDPOINT: emulator.url,
      LOG_LEVEL: 'warn',
      ...POLICY_ENV,
    };
    const args = [
      'worker',
      '--concurrency',
      '32',
      '--rate-limit',
      '0',
      '--lock-duration-ms',
      '2000',
      '--shutdown-timeout',
      '2',
    ];
    workers.push({ name, process: startCli(args, env), killedByUs: false });
  }

  async function killWorker(name: string): Promise<void> {
    const w = workers.find((x) => x.name === name && x.process.child.exitCode === null && !x.killedByUs);
    if (w === undefined) return;
    w.killedByUs = true;
    w.process.child.kill('SIGKILL');
    await w.process.exited;
  }

  /** Client id and name of every connection to the private Redis. */
  async function listClients(admin: RedisClient): Promise<{ id: string; name: string }[]> {
    const text = String(await admin.call('CLIENT', 'LIST'));
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => ({
        id: /\bid=(\d+)/.exec(line)?.[1] ?? '',
        name: /\bname=(\S*)/.exec(line)?.[1] ?? '',
      }));
  }

  /**
   * Once both worker processes hold their blocking connection, kills every client connection of the
   * private Redis but the asking one, and returns their names; undefined while a worker is starting.
   */
  async function killEveryRedisConnection(): Promise<string[] | undefined> {
    const admin = redis.admin();
    try {
      const self = String(await admin.call('CLIENT', 'ID'));
      const before = (await listClients(admin)).filter((c) => c.id !== self);
      const workerBlocking = before.filter((c) =>
        new RegExp(`^${prefix}:${DELETION_QUEUE_B64}:w:`).test(c.name),
      );
      if (workerBlocking.length < 2) return undefined;
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
      const after = new Set((await listClients(admin)).map((c) => c.id));
      expect(
        before.filter((c) => after.has(c.id)),
        'connections that survived CLIENT KILL',
      ).toEqual([]);
      return before.map((c) => c.name.replace(`${prefix}:`, '') || '(unnamed)');
    } finally {
      admin.disconnect();
    }
  }

  async function pendingJobs(): Promise<number> {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  it('deletes 5,000 tasks through faults, SIGKILLs and a Redis connection kill, within the retry budget', async () => {
    const projectId = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
    const selected: { project_id: string; instance_id: string; task_id: string }[] = [];
    const bystanders: string[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const instance = emulator.addInstance(projectId);
      const perInstance = TASKS / INSTANCES;
      const tasks = emulator.addTasks(
        instance.instance_id,
        Array.from({ length: perInstance + BYSTANDERS_PER_INSTANCE }, (_, n) => ({
          status: n % 10 === 0 ? ('FAILED' as const) : ('SUCCESS' as const),
        })),
      );
      for (const t of tasks.slice(0, perInstance))
        selected.push({ project_id: projectId, instance_id: instance.instance_id, task_id: t.id });
      bystanders.push(...tasks.slice(perInstance).map((t) => t.id));
    }
    const enqueued = await producer.enqueueMany(selected, { source: 'chaos' });
    expect(enqueued).toMatchObject({ enqueued: TASKS, duplicates: 0 });

    const started = Date.now();
    startWorker('a');
    startWorker('b');
    let kills = 0;
    let nextKillAt = KILL_EVERY;
    let connectionsKilled: string[] | undefined;
    let idlePolls = 0;
    // Bounded: one poll every 100 ms until the deadline.
    while (Date.now() - started < DEADLINE_MS) {
      await new Promise((r) => setTimeout(r, 100));
      const deleted = emulator.stats().deletions.count;
      if (deleted >= nextKillAt && nextKillAt < TASKS) {
        await killWorker('a');
        kills++;
        nextKillAt += KILL_EVERY;
        startWorker('a');
      }
      if (connectionsKilled === undefined && deleted >= REDIS_KILL_AT)
        connectionsKilled = await killEveryRedisConnection();
      for (const w of workers) {
        if (!w.killedByUs && w.process.child.exitCode !== null) {
          throw new Error(
            `worker ${w.name} exited by itself (${w.process.child.exitCode}): ${w.process.stderr().slice(-2_000)}`,
          );
        }
      }
      if (deleted < TASKS) continue;
      idlePolls = (await pendingJobs()) === 0 ? idlePolls + 1 : 0;
      if (idlePolls >= 3) break;
    }
    const durationMs = Date.now() - started;
    const running = workers.filter((w) => !w.killedByUs);
    for (const w of running) w.process.child.kill('SIGTERM');
    const exits = await Promise.all(running.map((w) => w.process.exited));

    // Nothing selected is left, nothing else was touched.
    const left = new Set(emulator.remainingTasks().map((t) => t.id));
    expect(selected.filter((t) => left.has(t.task_id)).length, 'selected tasks left on the emulator').toBe(0);
    expect(bystanders.filter((id) => !left.has(id)).length, 'tasks deleted that were not selected').toBe(0);

    // Nothing waiting, active, delayed, failed or dead-lettered; every job completed deleted or already_gone.
    expect(await pendingJobs()).toBe(0);
    expect(await queue.getFailedCount()).toBe(0);
    const deadQueue = openQueue(connection, prefix, DEAD_LETTER_QUEUE_NAME);
    const deadLetters = await deadQueue.getJobCountByTypes('wait', 'delayed', 'completed', 'failed');
    await deadQueue.close();
    expect(deadLetters).toBe(0);
    const completed: Job[] = await queue.getJobs(['completed'], 0, -1);
    expect(completed).toHaveLength(TASKS);
    const outcomes = new Map<string, number>();
    for (const job of completed) {
      const outcome = (job.returnvalue as DeleteJobResult).outcome;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect([...outcomes.keys()].every((o) => o === 'deleted' || o === 'already_gone')).toBe(true);
    expect(
      exits.every((code) => code === 0),
      `worker exit codes ${exits.join(', ')}`,
    ).toBe(true);
    for (const w of workers)
      expect(findUnstructuredOutput(w.process.stdout(), w.process.stderr())).toEqual([]);

    // The retry budget, task by task.
    const byJobId = new Map(completed.map((job) => [job.id!, job]));
    const perTask: number[] = [];
    let maxRuns = 0;
    let stalls = 0;
    const overBudget: string[] = [];
    for (const task of selected) {
      const job = byJobId.get(buildJobId(task))!;
      const t = tally.get(task.task_id) ?? { requests: 0, throttled: 0 };
      perTask.push(t.requests);
      maxRuns = Math.max(maxRuns, job.attemptsStarted);
      stalls += job.stalledCounter;
      const runBudget = DEFAULT_RETRY_POLICY.attempts + t.throttled + job.stalledCounter;
      const requestBudget = (1 + IN_PROCESS_RETRIES) * job.attemptsStarted;
      if (t.requests < 1 || t.requests > requestBudget || job.attemptsStarted > runBudget) {
        overBudget.push(
          `${task.task_id}: ${t.requests} DELETEs in ${job.attemptsStarted} runs (${t.throttled} x 429, ${job.stalledCounter} stalls)`,
        );
      }
    }
    expect(overBudget, 'tasks over the retry budget').toEqual([]);
    expect(kills).toBe(Math.ceil(TASKS / KILL_EVERY) - 1);
    expect(connectionsKilled?.length).toBeGreaterThan(0);

    const stats = emulator.stats();
    const total = perTask.reduce((a, b) => a + b, 0);
    const histogram: Record<number, number> = {};
    for (const n of perTask) histogram[n] = (histogram[n] ?? 0) + 1;
    const byStatus = stats.requests.byRoute.delete ?? {};
    const report = [
      `chaos run: ${TASKS} deletions in ${(durationMs / 1000).toFixed(1)} s with 2 worker processes`,
      `  ${kills} SIGKILLs of a worker; from ${REDIS_KILL_AT} deletions on, once both workers were connected, all ${connectionsKilled?.length} Redis client connections killed: ${connectionsKilled?.join(' ')}`,
      `  DELETE requests ${total}: ${(total / TASKS).toFixed(2)} per task, max ${Math.max(...perTask)}; tasks by DELETE count ${JSON.stringify(histogram)}; answers ${JSON.stringify(byStatus)}`,
      `  faults injected ${JSON.stringify(stats.faults)}`,
      `  outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; dead letters 0; job runs max ${maxRuns}; stalls ${stalls}`,
      `  budget per task: DELETEs <= ${1 + IN_PROCESS_RETRIES} x runs, runs <= ${DEFAULT_RETRY_POLICY.attempts} + 429s + stalls: all ${TASKS} within`,
    ].join('\n');
    console.log(report);
  }, 240_000);
});
