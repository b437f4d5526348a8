/**
 * 11. Fairness across accounts (`fairness`): two accounts in an accounts file (CLEANUP_ACCOUNTS_FILE),
 * each with its own AK/SK and project at the emulator, the same `rate_limit` each (100/s; the
 * emulator throttles at 200/s per AK like the gateway), one `dcs-cleanup worker` process serving
 * both. A round enqueues 50,000 tasks for `a` (quick: 5,000), then 500 for `b` (quick: 100), in that
 * order, into a worker already running; the baseline round enqueues `b`'s alone. The figure is b's
 * drain time (from the start of its enqueue to its last job's finishedOn in BullMQ) with `a`
 * present over alone, rounds interleaved: target <= 1.2. Each round is a fresh prefix and worker,
 * stopped once b is done (a's backlog is not drained: at 100/s it would take 500 s).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { JOB_NAME, JOB_SCHEMA_VERSION, QUEUE_NAME, buildJobId } from '../../dist/queue/job-contract.js';
import { DEFAULT_DEDUPE_WINDOW_SEC, buildJobOptions } from '../../dist/queue/producer.js';
import { DEFAULT_RETRY_POLICY } from '../../dist/queue/retry-policy.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { CREDENTIALS, PROJECT_ID, listTasks } from '../lib/inventory.js';
import { sleep, stopProcess } from '../lib/proc.js';
import { createPrefix, deletePrefix } from '../lib/queue.js';
import { buildFigure, rotate } from '../lib/stats.js';
import { startCliWorker, waitForWorkers } from '../lib/workers.js';

const TASKS_PER_INSTANCE = 2_000;
const RATE = 100;
const GATEWAY_LIMIT = 200;
const CONCURRENCY = 32;
const B = {
  ak: 'BENCHFAIRB0000000002',
  sk: 'bench-fairness-b-secret',
  projectId: 'be0c00000000000000000000000000b2',
};
const QUEUE_B = `${QUEUE_NAME}@b`;

export async function run(ctx) {
  const bigCount = ctx.quick ? 5_000 : 50_000;
  const smallCount = ctx.quick ? 100 : 500;
  const bigInstances = Math.ceil(bigCount / TASKS_PER_INSTANCE);
  const emulator = await startEmulatorProcess({
    tasks: { instances: bigInstances, tasksPerInstance: TASKS_PER_INSTANCE },
    // b's one instance is numbered after a's: instance ids are unique across the emulator.
    extraAccounts: [{ ...B, instances: 1, tasksPerInstance: smallCount, firstInstance: bigInstances }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-fairness-'));
  const accountsFile = join(dir, 'accounts.yaml');
  writeFileSync(
    accountsFile,
    [
      'default_account: a',
      'accounts:',
      '  a:',
      '    credentials: { source: env, ak_env: BENCH_A_AK, sk_env: BENCH_A_SK }',
      `    projects: ["${PROJECT_ID}"]`,
      `    rate_limit: ${RATE}`,
      '  b:',
      '    credentials: { source: env, ak_env: BENCH_B_AK, sk_env: BENCH_B_SK }',
      `    projects: ["${B.projectId}"]`,
      `    rate_limit: ${RATE}`,
    ].join('\n'),
  );
  const env = {
    CLEANUP_ACCOUNTS_FILE: accountsFile,
    BENCH_A_AK: CREDENTIALS.ak,
    BENCH_A_SK: CREDENTIALS.sk,
    BENCH_B_AK: B.ak,
    BENCH_B_SK: B.sk,
  };
  const big = listTasks(TASKS_PER_INSTANCE, 0, bigCount);
  const small = listTasks(smallCount, bigInstances * smallCount, smallCount, B.projectId).map((t) => ({
    ...t,
    account: 'b',
  }));
  const round = async (label, withBig) => {
    await emulator.reset();
    const prefix = createPrefix(`fairness-${label}`);
    const worker = startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY, env });
    const queueA = new Queue(QUEUE_NAME, { connection: ctx.redis, prefix });
    const queueB = new Queue(QUEUE_B, { connection: ctx.redis, prefix });
    try {
      await waitForWorkers(ctx.redis, prefix, [worker]);
      if (withBig) await addAll(queueA, big);
      const startedMs = Date.now();
      await addAll(queueB, small);
      const deadline = Date.now() + 600_000;
      while ((await queueB.getCompletedCount()) < smallCount) {
        if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.stderr()}`);
        if ((await queueB.getFailedCount()) > 0) throw new Error("b's jobs failed");
        if (Date.now() > deadline) throw new Error("b's jobs not done within 600 s");
        await sleep(20);
      }
      const last = await ctx.redis.zrange(`${prefix}:${QUEUE_B}:completed`, -1, -1, 'WITHSCORES');
      const drainMs = Number(last[1]) - startedMs;
      const bigWaiting = withBig ? await queueA.getWaitingCount() : 0;
      return { drainMs, bigWaiting };
    } finally {
      await stopProcess(worker);
      await queueA.close();
      await queueB.close();
      await deletePrefix(ctx.redis, prefix);
    }
  };
  const rounds = [];
  try {
    await emulator.setRateLimit(GATEWAY_LIMIT);
    for (let r = 0; r < ctx.rounds; r++) {
      const result = {};
      for (const arm of rotate(['with', 'alone'], r)) {
        result[arm] = await round(`${arm}-${r}`, arm === 'with');
      }
      const throttled = (await emulator.stats()).throttled;
      rounds.push({
        ours: result.with.drainMs,
        baseline: result.alone.drainMs,
        bigWaiting: result.with.bigWaiting,
      });
      ctx.log(
        `fairness round ${r + 1}: b's ${smallCount} jobs in ${result.with.drainMs} ms behind a's ${bigCount} (${result.with.bigWaiting} still waiting), ${result.alone.drainMs} ms alone; ${throttled} throttled`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await emulator.stop();
  }
  return [
    buildFigure({
      id: 'fairness.small_account',
      title: `Account b's ${smallCount} jobs enqueued after account a's ${bigCount}, ${RATE}/s each: b's drain time vs b alone`,
      unit: 'ms',
      target: { max: 1.2 },
      rounds: rounds.map(({ ours, baseline }) => ({ ours, baseline })),
      note: `one worker process, concurrency ${CONCURRENCY} per account, gateway ${GATEWAY_LIMIT}/s per AK; alone at ${RATE}/s: ${((smallCount / RATE) * 1000).toFixed(0)} ms; a's jobs still waiting when b was done: ${rounds.map((r) => r.bigWaiting).join(', ')}`,
    }),
  ];
}

/** Adds `tasks` as the producer would (same job id, data and options), 1,000 per addBulk. */
async function addAll(queue, tasks) {
  const options = buildJobOptions(DEFAULT_RETRY_POLICY.attempts, DEFAULT_DEDUPE_WINDOW_SEC);
  const now = new Date().toISOString();
  for (let i = 0; i < tasks.length; i += 1000) {
    await queue.addBulk(
      tasks.slice(i, i + 1000).map(({ account, ...task }) => ({
        name: JOB_NAME,
        data: {
          schema_version: JOB_SCHEMA_VERSION,
          ...task,
          ...(account === undefined ? {} : { account }),
          source: 'bench',
          enqueued_at: now,
        },
        opts: { ...options, jobId: buildJobId(task) },
      })),
    );
  }
}
