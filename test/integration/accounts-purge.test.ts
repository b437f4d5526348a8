/**
 * `purge --all-accounts` and `purge --account` against the emulator: every project each account of
 * CLEANUP_ACCOUNTS_FILE lists, each listed with that account's key, under one --max guard. The CLI
 * runs as a real child process (from dist/: `npm run build` first); the workers run in-process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { resolveWorkerSettings } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { loadAccountsSettings } from '../../src/config/accounts-file.js';
import { createAccountRegistry, type AccountRegistry } from '../../src/accounts/account-registry.js';
import { createAccountWorkers, type AccountWorkers } from '../../src/queue/account-queues.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { FAST_POLICY } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { runCli } from '../support/cli-process.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';

const DAY = 86_400_000;
const A = {
  ak: 'PURGEAAK000000000001',
  sk: 'purge-a-secret',
  projects: ['aa000000000000000000000000000001', 'aa000000000000000000000000000002'],
};
const B = {
  ak: 'PURGEBAK000000000002',
  sk: 'purge-b-secret',
  projects: ['bb000000000000000000000000000003'],
};
/** A project A's key may act on, listed by no account: no purge across accounts touches it. */
const UNLISTED = 'cc000000000000000000000000000004';

let emulator: Emulator;
let prefix: string;
let dir: string;
let env: Record<string, string>;
let connection: RedisClient;
let registry: AccountRegistry;
let workers: AccountWorkers;
/** Per project: its instance and the ids of its old (40 days) and new (1 hour) finished tasks. */
const seeded = new Map<string, { instance: string; old: string[]; fresh: string[] }>();

beforeAll(async () => {
  prefix = uniquePrefix('acc-purge');
  dir = mkdtempSync(join(tmpdir(), 'accounts-purge-'));
  emulator = await startEmulator({
    rateLimitPerSecond: 0,
    credentials: [
      { ak: A.ak, sk: A.sk, projects: [...A.projects, UNLISTED] },
      { ak: B.ak, sk: B.sk, projects: B.projects },
    ],
  });
  const now = Date.now();
  for (const project of [...A.projects, ...B.projects, UNLISTED]) {
    const instance = emulator.addInstance(project).instance_id;
    const add = (count: number, ageMs: number) =>
      emulator
        .addTasks(
          instance,
          Array.from({ length: count }, () => ({
            status: 'SUCCESS' as const,
            created_at: new Date(now - ageMs).toISOString(),
          })),
        )
        .map((t) => t.id);
    seeded.set(project, { instance, old: add(5, 40 * DAY), fresh: add(3, 3_600_000) });
  }
  const accountsFile = join(dir, 'accounts.yaml');
  writeFileSync(
    accountsFile,
    [
      'default_account: a',
      'accounts:',
      '  a:',
      '    credentials: { source: env, ak_env: ACC_A_AK, sk_env: ACC_A_SK }',
      `    projects: ${JSON.stringify(A.projects)}`,
      '  b:',
      '    credentials: { source: env, ak_env: ACC_B_AK, sk_env: ACC_B_SK }',
      `    projects: ${JSON.stringify(B.projects)}`,
    ].join('\n'),
  );
  env = {
    REDIS_URL,
    CLEANUP_PREFIX: prefix,
    DCS_ENDPOINT: emulator.url,
    CLEANUP_ACCOUNTS_FILE: accountsFile,
    ACC_A_AK: A.ak,
    ACC_A_SK: A.sk,
    ACC_B_AK: B.ak,
    ACC_B_SK: B.sk,
    LOG_LEVEL: 'silent',
  };
  const config = loadConfig(env);
  registry = createAccountRegistry(config, { settings: loadAccountsSettings(config, env) });
  connection = createRedisConnection(REDIS_URL, 'worker');
  workers = await createAccountWorkers({
    connection,
    prefix,
    registry,
    logger: captureLogger('warn').logger,
    ...testPoolSettings(500),
  });
});

afterAll(async () => {
  await workers?.close();
  await registry?.close();
  connection?.disconnect();
  await emulator?.close();
  if (prefix) await deletePrefix(prefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const left = (project: string): string[] =>
  emulator.remainingTasks({ instanceId: seeded.get(project)!.instance }).map((t) => t.id);

describe('purge across accounts', () => {
  it('--all-accounts: one guard across every listed project; over it, nothing is enqueued', async () => {
    // 15 old tasks match in all (5 per listed project): --max 12 is above each project's count, below the run's.
    const stopped = await runCli(
      ['purge', '--all-accounts', '--all-instances', '--older-than', '30d', '--max', '12', '--yes'],
      env,
    );
    expect(stopped.code, stopped.stderr).toBe(3);
    for (const project of [...A.projects, ...B.projects]) expect(left(project)).toHaveLength(8);
    expect(await workers.pools.get('a')!.queue.count()).toBe(0);
    expect(await workers.pools.get('b')!.queue.count()).toBe(0);
  });

  it('--all-accounts deletes exactly the matching tasks of every listed project, each with its account', async () => {
    const report = join(dir, 'report.json');
    const run = await runCli(
      [
        'purge',
        '--all-accounts',
        '--all-instances',
        '--older-than',
        '30d',
        '--yes',
        '--wait',
        '--report',
        report,
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    for (const project of [...A.projects, ...B.projects]) {
      expect(left(project).sort()).toEqual([...seeded.get(project)!.fresh].sort());
    }
    expect(left(UNLISTED)).toHaveLength(8);
    const counts = async (name: string) => workers.pools.get(name)!.queue.getJobCounts('completed');
    expect(await counts('a')).toEqual({ completed: 10 });
    expect(await counts('b')).toEqual({ completed: 5 });
    expect(JSON.parse(await readFile(report, 'utf8')).counts).toMatchObject({ selected: 15, deleted: 15 });
    expect(emulator.stats().authFailures).toBe(0);
  });

  it('--account with --project lists with that account; an unknown account is refused naming the flag', async () => {
    const unknown = await runCli(
      ['purge', '--account', 'ghost', '--project', UNLISTED, '--all-instances', '--dry-run'],
      env,
    );
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/--account: ghost is not one of the configured accounts \(a, b\)/);
    const dry = await runCli(
      [
        'purge',
        '--account',
        'a',
        '--project',
        UNLISTED,
        '--all-instances',
        '--older-than',
        '30d',
        '--dry-run',
      ],
      env,
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/5 task\(s\) would be deleted/);
    expect(left(UNLISTED)).toHaveLength(8);
  });

  it('status shows every account queue; resume --account names the account or refuses an unknown one', async () => {
    const status = await runCli(['status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.accounts.map((a: any) => [a.account, a.queue, a.paused])).toEqual([
      ['a', 'dcs-cleanup', false],
      ['b', 'dcs-cleanup@b', false],
    ]);
    expect(parsed.completed).toBe(parsed.accounts[0].completed);
    const text = await runCli(['status'], env);
    expect(text.stdout).toMatch(/^account b \(queue dcs-cleanup@b\):$/m);
    const resumed = await runCli(['resume', '--account', 'b'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe('queue dcs-cleanup@b (account b) resumed\n');
    const unknown = await runCli(['resume', '--account', 'ghost'], env);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/--account: ghost is not one of the configured accounts/);
  });

  it('enqueue routes by --account, by an account column, else by project; an unknown --account is refused', async () => {
    const [pa, pb] = [A.projects[0]!, B.projects[0]!];
    const byFlag = await runCli(
      ['enqueue', '--account', 'b', '--project', pa, '--instance', 'i-1', '--task', 'flag-1'],
      env,
    );
    expect(byFlag.code, byFlag.stderr).toBe(0);
    const csv = join(dir, 'tasks.csv');
    writeFileSync(
      csv,
      `project_id,instance_id,task_id,account\n${pa},i-1,csv-1,\n${pb},i-1,csv-2,\n${pa},i-1,csv-3,b\n`,
    );
    const byFile = await runCli(['enqueue', '--file', csv, '--json'], env);
    expect(byFile.code, byFile.stderr).toBe(0);
    const queueOf = async (project: string, task: string) => {
      const id = `del_${project}_i-1_${task}`;
      for (const name of ['a', 'b']) if (await workers.pools.get(name)!.queue.getJob(id)) return name;
      return undefined;
    };
    expect(await queueOf(pa, 'flag-1')).toBe('b');
    expect(await queueOf(pa, 'csv-1')).toBe('a');
    expect(await queueOf(pb, 'csv-2')).toBe('b');
    expect(await queueOf(pa, 'csv-3')).toBe('b');
    const unknown = await runCli(
      ['enqueue', '--account', 'ghost', '--project', pa, '--instance', 'i-1', '--task', 'x'],
      env,
    );
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/--account: ghost is not one of the configured accounts/);
  });
});

/** The worker settings of the configuration's defaults, with a small pool and a fast policy. */
function testPoolSettings(probeIntervalMs: number) {
  const {
    metricsPort: _m,
    schedules: _s,
    trusted: _t,
    ...settings
  } = resolveWorkerSettings(loadConfig({}), {
    concurrency: 8,
    rateLimitPerSecond: 0,
    policy: FAST_POLICY,
    probeIntervalMs,
    shutdownTimeoutMs: 2_000,
  });
  return settings;
}
