/**
 * The whole pipeline as real processes against a highly available Redis (cluster or sentinel),
 * with an optional disruption (a master killed, a manual failover) once some deletions are done:
 * `enqueue --file`, two `worker` processes, `serve` taking an API enqueue, `purge --wait`, and,
 * when asked, a rejected task that lands in the dead letters and is replayed with `dlq replay`.
 * Jobs whose enqueue Redis acknowledged but lost in the failover (asynchronous replication) are
 * counted and enqueued again, as docs/reliability.md tells an operator to.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_CREDENTIALS, startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { freePort } from '../../src/demo/private-redis.js';
import { runCli, startCli, type CliProcess } from './cli-process.js';
import { waitFor } from './wait-for.js';

const PROJECT_ID = '7d3f0c2b9a8e4d6f8c1b2a3e4f5d6c7b';
const TOKEN = 'ha-test-token-0123456789abcdef0123456789';

export interface HaRunOptions {
  /** REDIS_CLUSTER_NODES or REDIS_SENTINELS + REDIS_SENTINEL_MASTER, and CLEANUP_PREFIX. */
  redisEnv: Record<string, string>;
  /** A directory the test removes afterwards. */
  dir: string;
  /** Called once `disruptAfter` deletions are done; resolves once a replica is promoted. */
  disrupt?: () => Promise<void>;
  disruptAfter?: number;
  /** Put one task into the dead letters (a 400) and replay it. */
  withDeadLetter?: boolean;
}

export interface HaRunFigures {
  tasks: number;
  /** DELETE requests the emulator received. */
  deletes: number;
  /** Tasks that got more than one DELETE. */
  repeated: number;
  alreadyGone: number;
  /** Acknowledged enqueues gone after the failover, found and enqueued again. */
  lost: number;
  /** Dead letters other than the deliberate one. */
  deadLetters: number;
  /** From the disruption until a replica is promoted. */
  failoverMs: number | undefined;
  /** From the disruption until deletions run again after the promotion (5 more). */
  recoveryMs: number | undefined;
  durationMs: number;
}

interface Scope {
  emulator: Emulator;
  env: Record<string, string>;
  fileIds: string[];
  apiIds: string[];
  purgeIds: string[];
  instances: { file: string; api: string; purge: string };
}

async function prepare(options: HaRunOptions): Promise<Scope> {
  const emulator = await startEmulator({
    rateLimitPerSecond: 0,
    seed: { projectId: PROJECT_ID, instances: 0, tasksPerInstance: 0 },
    faults: { latencyMs: 2, jitterMs: 6 },
  });
  const old = new Date(Date.now() - 10 * 86_400_000).toISOString();
  const add = (count: number) => {
    const instance = emulator.addInstance(PROJECT_ID);
    const tasks = emulator.addTasks(
      instance.instance_id,
      Array.from({ length: count }, () => ({ status: 'SUCCESS' as const, created_at: old })),
    );
    return { instance: instance.instance_id, ids: tasks.map((t) => t.id) };
  };
  const file = add(300);
  const api = add(100);
  const purge = add(600);
  const env = {
    ...options.redisEnv,
    CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
    CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
    DCS_ENDPOINT: emulator.url,
    DCS_PROJECT_ID: PROJECT_ID,
    CLEANUP_API_TOKEN: TOKEN,
    LOG_LEVEL: 'info',
    RETRY_BACKOFF_BASE_MS: '50',
    RETRY_BACKOFF_CAP_MS: '500',
    RETRY_IN_PROCESS_BASE_MS: '5',
    RETRY_IN_PROCESS_CAP_MS: '50',
  };
  return {
    emulator,
    env,
    fileIds: file.ids,
    apiIds: api.ids,
    purgeIds: purge.ids,
    instances: { file: file.instance, api: api.instance, purge: purge.instance },
  };
}

async function writeCsv(path: string, instance: string, ids: string[]): Promise<void> {
  const lines = ids.map((id) => `${PROJECT_ID},${instance},${id}`);
  await writeFile(path, `project_id,instance_id,task_id\n${lines.join('\n')}\n`);
}

async function postDeletions(port: number, instance: string, ids: string[]): Promise<void> {
  const tasks = ids.map((task_id) => ({ project_id: PROJECT_ID, instance_id: instance, task_id }));
  await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/deletions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tasks }),
      }).catch(() => undefined);
      return res?.status === 202;
    },
    'the API to accept the deletions',
    30_000,
    100,
  );
}

function outcomes(workers: CliProcess[]): string[] {
  return workers.flatMap((w) =>
    w
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"outcome"'))
      .map((l) => (JSON.parse(l) as { outcome: string }).outcome),
  );
}

async function cliJson(args: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  const run = await runCli(args, env);
  if (run.code !== 0) throw new Error(`${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

interface Timings {
  failoverMs: number | undefined;
  recoveryMs: number | undefined;
}

/**
 * Mid-run, the purge has enqueued its jobs and is following them (a producer that starts while no
 * master answers fails at once with REDIS_UNAVAILABLE, by design: it is re-run), and some DELETEs
 * are done: disrupt, then time the failover and the first DELETEs after it.
 */
async function disruptMidRun(s: Scope, purge: CliProcess, options: HaRunOptions): Promise<Timings> {
  if (!options.disrupt) return { failoverMs: undefined, recoveryMs: undefined };
  const deletions = (): number => s.emulator.stats().deletions.count;
  await waitFor(
    () => /enqueued \d+/.test(purge.stdout() + purge.stderr()),
    'the purge to enqueue',
    60_000,
    20,
  );
  await waitFor(
    () => deletions() >= (options.disruptAfter ?? 150),
    'deletions before the disruption',
    60_000,
    20,
  );
  const at = Date.now();
  await options.disrupt();
  const failoverMs = Date.now() - at;
  const before = deletions();
  const left = (): number => s.emulator.remainingTasks({ projectId: PROJECT_ID }).length;
  await waitFor(() => deletions() > before + 5 || left() === 0, 'deletions after it', 60_000, 20);
  return { failoverMs, recoveryMs: deletions() > before + 5 ? Date.now() - at : undefined };
}

const isIdle = async (env: Record<string, string>): Promise<boolean> => {
  const st = await cliJson(['status', '--json'], env);
  return st.waiting === 0 && st.active === 0 && st.delayed === 0;
};

/**
 * Enqueues acknowledged by a master that died before its replica had them are gone: found here
 * (still in DCS, no job) and enqueued again, as an operator re-runs the same enqueue. Returns how many.
 */
async function enqueueLostAgain(s: Scope, expected: Set<string>, dir: string): Promise<number> {
  const left = s.emulator.remainingTasks({ projectId: PROJECT_ID }).filter((t) => expected.has(t.id));
  if (left.length === 0) return 0;
  const again = join(dir, `again-${Date.now()}.csv`);
  const lines = left.map((t) => `${PROJECT_ID},${t.instance_id},${t.id}`);
  await writeFile(again, `project_id,instance_id,task_id\n${lines.join('\n')}\n`);
  const rerun = await runCli(['enqueue', '--file', again], s.env);
  if (rerun.code !== 0) throw new Error(`enqueue again exited ${rerun.code}: ${rerun.stderr}`);
  await waitFor(() => isIdle(s.env), 'the queue to drain again', 60_000, 300);
  return left.length;
}

/** Waits for the deliberate dead letter, replays it, and waits for its task to go. */
async function replayDeadLetter(s: Scope, rejected: string): Promise<void> {
  const deadLetters = async (): Promise<number> =>
    Number((await cliJson(['status', '--json'], s.env)).dead_letters);
  await waitFor(async () => (await deadLetters()) >= 1, 'the dead letter', 30_000, 200);
  const replay = await runCli(['dlq', 'replay', '--all'], s.env);
  if (replay.code !== 0) throw new Error(`dlq replay exited ${replay.code}: ${replay.stderr}`);
  await waitFor(() => s.emulator.getTask(rejected) === undefined, 'the replayed task to go', 30_000, 100);
  await waitFor(() => isIdle(s.env), 'the queue to drain after the replay', 30_000, 300);
}

/** SIGTERMs the long-running processes; every process must exit 0. */
async function stopAll(processes: CliProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  for (const p of processes) {
    const code = await p.exited;
    const name = p.child.spawnargs.slice(2, 3).join(' ');
    if (code !== 0) throw new Error(`${name} exited ${code}: ${p.stderr()}${p.stdout().slice(-1500)}`);
  }
}

/** Starts the producers and consumers of the run; returns the workers and the purge. */
async function startRun(s: Scope, options: HaRunOptions, processes: CliProcess[]) {
  const csv = join(options.dir, `tasks-${Date.now()}.csv`);
  await writeCsv(csv, s.instances.file, s.fileIds);
  const enqueued = await runCli(['enqueue', '--file', csv], s.env);
  if (enqueued.code !== 0) throw new Error(`enqueue exited ${enqueued.code}: ${enqueued.stderr}`);
  const workerArgs = ['worker', '--concurrency', '16', '--rate-limit', '0', '--lock-duration-ms', '2000'];
  const workers = [startCli(workerArgs, s.env), startCli(workerArgs, s.env)];
  processes.push(...workers);
  const apiPort = await freePort();
  processes.push(startCli(['serve', '--port', String(apiPort)], s.env));
  await postDeletions(apiPort, s.instances.api, s.apiIds);
  const purgeArgs = ['purge', '--instance', s.instances.purge, '--older-than', '1d', '--yes', '--wait'];
  const purge = startCli([...purgeArgs, '--max', '1000'], s.env);
  processes.push(purge);
  return { workers, purge };
}

/** Runs the scenario; throws when a process fails. Every process is stopped before it returns. */
export async function runHaPipeline(options: HaRunOptions): Promise<HaRunFigures> {
  const started = Date.now();
  // HA_TRACE=1 prints how far a run got (for a run that times out).
  const mark = (what: string): void => {
    if (process.env.HA_TRACE) console.log(`[ha] ${Date.now() - started} ms ${what}`);
  };
  const s = await prepare(options);
  const processes: CliProcess[] = [];
  try {
    const rejected = options.withDeadLetter ? s.fileIds[0] : undefined;
    if (rejected) s.emulator.scriptTask(rejected, [{ status: 400, errorCode: '111400070' }]);
    const { workers, purge } = await startRun(s, options, processes);
    mark('started');
    const timings = await disruptMidRun(s, purge, options);
    mark('disruption handled');
    const purgeCode = await purge.exited;
    if (purgeCode !== 0) throw new Error(`purge --wait exited ${purgeCode}: ${purge.stderr()}`);
    await waitFor(() => isIdle(s.env), 'the queue to drain', 90_000, 300);
    mark('drained');

    const expected = new Set([...s.fileIds, ...s.apiIds, ...s.purgeIds].filter((id) => id !== rejected));
    const lost = await enqueueLostAgain(s, expected, options.dir);
    if (rejected) await replayDeadLetter(s, rejected);
    const final = await cliJson(['status', '--json'], s.env);
    if (final.failed !== 0) throw new Error(`failed jobs left: ${JSON.stringify(final)}`);
    const remaining = s.emulator.remainingTasks({ projectId: PROJECT_ID }).length;
    if (remaining !== 0) throw new Error(`${remaining} tasks left in DCS`);
    mark('checked');
    await stopAll(processes);
    mark('stopped');

    const ends = outcomes(workers);
    if (ends.some((o) => o !== 'deleted' && o !== 'already_gone' && o !== 'dead_lettered'))
      throw new Error(`unexpected outcomes: ${ends.join(',')}`);
    const byTask = Object.values(s.emulator.stats().deletions.requestsByTask);
    return {
      tasks: expected.size + (rejected ? 1 : 0),
      deletes: byTask.reduce((a, b) => a + b, 0),
      repeated: byTask.filter((n) => n > 1).length,
      alreadyGone: ends.filter((o) => o === 'already_gone').length,
      lost,
      deadLetters: Number(final.dead_letters),
      ...timings,
      durationMs: Date.now() - started,
    };
  } finally {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await s.emulator.close();
  }
}
