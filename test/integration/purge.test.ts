/**
 * `dcs-cleanup purge` against the emulator seeded with a mixed inventory (4 instances, 300 tasks,
 * every status, ages from hours to months), a real Redis under a unique prefix and an in-process
 * worker pool. The CLI runs as a real child process (from dist/: `npm run build` first).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { selectPurge, type PurgeSpec } from '../../src/purge/select-purge.js';
import { parsePurgeFilters } from '../../src/purge/purge-filters.js';
import type { TaskLister } from '../../src/purge/stream-inventory.js';
import { loadConfig } from '../../src/config/config.js';
import { runPurge, type PurgeFlags } from '../../src/cli/purge-command.js';
import { runPurgeApply } from '../../src/cli/purge-apply.js';
import type { PurgeDeps } from '../../src/cli/purge-run.js';
import { buildJobId } from '../../src/queue/job-contract.js';
import type { CleanupWorker } from '../../src/queue/worker.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import {
  DAY_MS,
  PURGE_PROJECT_ID,
  SEED,
  addEveryStatusAndAge,
  cliEnv,
  expectedSelection,
  instanceIds,
  unfinishedIds,
} from '../support/purge-inventory.js';

let h: Harness;
let client: DcsClient;
let env: Record<string, string>;
let dir: string;
let instances: string[];
let worker: CleanupWorker;

beforeAll(async () => {
  h = await createHarness('purge', { seed: SEED });
  addEveryStatusAndAge(h.emulator);
  client = createDcsClient({
    endpoint: h.emulator.url,
    credentials: new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk),
  });
  env = cliEnv(h.emulator, h.prefix);
  dir = await mkdtemp(join(tmpdir(), 'dcs-purge-'));
  instances = instanceIds(h.emulator);
  worker = await h.startWorker();
});

afterAll(async () => {
  await client?.close();
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The client with small pages, so every listing crosses page boundaries. */
function smallPages(): TaskLister {
  return {
    listInstances: (projectId, options) => client.listInstances(projectId, { ...options, pageSize: 2 }),
    listBackgroundTasks: (ref, options) => client.listBackgroundTasks(ref, { ...options, pageSize: 7 }),
  };
}

function spec(
  filters: Parameters<typeof parsePurgeFilters>[0],
  scope: string[] | 'all',
  max = 1000,
): PurgeSpec {
  return {
    scope:
      scope === 'all'
        ? { project_id: PURGE_PROJECT_ID, all_instances: true }
        : { project_id: PURGE_PROJECT_ID, instances: scope, all_instances: false },
    filters: parsePurgeFilters(filters),
    max,
  };
}

const ids = (tasks: Iterable<{ task_id: string }>) => new Set(Array.from(tasks, (t) => t.task_id));
const jobCount = async () =>
  await h.queue.getJobCountByTypes('wait', 'active', 'delayed', 'completed', 'failed', 'prioritized');

describe('purge selection', () => {
  it('has a realistic inventory: several instances, every status, ages from hours to months', () => {
    const stats = h.emulator.stats().tasksLeft;
    expect(stats.total).toBe(300);
    for (const status of ['SUCCESS', 'FAILED', 'EXECUTING', 'WAITING', 'CREATED'] as const)
      expect(stats.byStatus[status]).toBeGreaterThan(3);
    expect(instances).toHaveLength(4);
  });

  it.each([
    ['older than 30d, default statuses', { olderThan: '30d' }, 'all', { olderThanMs: 30 * DAY_MS }],
    ['FAILED only', { status: ['FAILED'] }, 'all', { statuses: ['FAILED'] }],
    [
      'names EXTEND,BindEip older than 7d',
      { olderThan: '7d', name: ['EXTEND', 'bindeip'] },
      'all',
      { olderThanMs: 7 * DAY_MS, names: ['EXTEND', 'BindEip'] },
    ],
    [
      'two instances, one excluded',
      { olderThan: '1h', excludeInstance: ['@1'] },
      ['@0', '@1'],
      { olderThanMs: 3_600_000, instances: ['@0'] },
    ],
    ['every instance but one', { excludeInstance: ['@2'] }, 'all', { excludeInstances: ['@2'] }],
  ] as const)('selects exactly the right tasks: %s', async (_label, filters, scope, expectation) => {
    const at = (v: string) => (v.startsWith('@') ? instances[Number(v.slice(1))]! : v);
    const resolvedFilters = {
      ...filters,
      ...('excludeInstance' in filters ? { excludeInstance: filters.excludeInstance.map(at) } : {}),
    };
    const resolvedScope = scope === 'all' ? 'all' : scope.map(at);
    const now = new Date();
    const listing = await selectPurge(smallPages(), spec(resolvedFilters, resolvedScope), {
      now,
      concurrency: 3,
    });
    const expected = expectedSelection(
      h.emulator,
      {
        ...expectation,
        ...('instances' in expectation ? { instances: expectation.instances.map(at) } : {}),
        ...('excludeInstances' in expectation
          ? { excludeInstances: expectation.excludeInstances.map(at) }
          : {}),
      },
      now.getTime(),
    );
    expect(expected.size).toBeGreaterThan(0);
    expect(ids(listing.selected)).toEqual(expected);
    for (const id of unfinishedIds(h.emulator)) expect(ids(listing.selected).has(id)).toBe(false);
  });
});

describe('purge CLI', () => {
  it('--dry-run lists exactly what would be deleted and deletes nothing', async () => {
    const before = h.emulator.stats();
    const { code, stdout } = await runCli(
      ['purge', '--all-instances', '--older-than', '30d', '--dry-run'],
      env,
    );
    expect(code).toBe(0);
    const listed = new Set([...stdout.matchAll(/^\S+ {2}([0-9a-f]{32}) {2}/gm)].map((m) => m[1]));
    expect(listed).toEqual(expectedSelection(h.emulator, { olderThanMs: 30 * DAY_MS }));
    expect(stdout).toMatch(/dry run: nothing was enqueued/);
    expect(h.emulator.stats().tasksLeft.total).toBe(before.tasksLeft.total);
    expect(h.emulator.stats().deletions.count).toBe(before.deletions.count);
    expect(await jobCount()).toBe(0);
  });

  it('the --max guard stops the run before anything is enqueued, with exit code 3', async () => {
    const matched = expectedSelection(h.emulator, {}).size;
    const { code, stdout } = await runCli(['purge', '--all-instances', '--max', '5', '--yes'], env);
    expect(code).toBe(3);
    expect(stdout).toContain(`guard: ${matched} task(s) matched, more than --max 5: nothing was enqueued`);
    expect(await jobCount()).toBe(0);
    expect(h.emulator.stats().deletions.count).toBe(0);
  });

  it('--out then apply deletes exactly the plan, even when more matching tasks appeared in between', async () => {
    const scope = [instances[0]!, instances[1]!];
    const planPath = join(dir, 'plan.json');
    const planned = await runCli(
      ['purge', '--instance', scope.join(','), '--older-than', '30d', '--out', planPath],
      env,
    );
    expect(planned.code).toBe(0);
    const plan = JSON.parse(await readFile(planPath, 'utf8'));
    const expected = expectedSelection(h.emulator, { olderThanMs: 30 * DAY_MS, instances: scope });
    expect(ids(plan.selected)).toEqual(expected);
    expect(plan).toMatchObject({
      version: 1,
      project_id: PURGE_PROJECT_ID,
      filters: { older_than: '30d', instances: scope },
    });
    expect(plan.created_by).toMatch(/@/);
    expect(await jobCount()).toBe(0);

    const late = h.emulator.addTasks(scope[0]!, [
      { status: 'SUCCESS', created_at: new Date(Date.now() - 60 * DAY_MS).toISOString() },
    ]);
    const reportPath = join(dir, 'apply-report.json');
    const applied = await runCli(
      ['purge', 'apply', planPath, '--yes', '--wait', '--report', reportPath],
      env,
    );
    expect(applied.code).toBe(0);
    const remaining = new Set(h.emulator.remainingTasks({ projectId: PURGE_PROJECT_ID }).map((t) => t.id));
    for (const id of expected) expect(remaining.has(id)).toBe(false);
    expect(remaining.has(late[0]!.id)).toBe(true);
    const report = JSON.parse(await readFile(reportPath, 'utf8'));
    expect(report.run_id).toBe(plan.run_id);
    expect(report.counts).toMatchObject({
      selected: expected.size,
      deleted: expected.size,
      dead_lettered: 0,
    });
  });

  it('--wait and --report agree with what the emulator saw; dead letters give exit code 2', async () => {
    const instance = instances[2]!;
    const expected = [...expectedSelection(h.emulator, { olderThanMs: 7 * DAY_MS, instances: [instance] })];
    const [rejected, gone] = expected;
    h.emulator.scriptTask(rejected!, [{ status: 400, errorCode: '111400070' }]);
    h.emulator.scriptTask(gone!, [{ status: 404, errorCode: '111404023' }]);
    const deletionsBefore = h.emulator.stats().deletions.count;
    const reportPath = join(dir, 'report.json');
    const { code, stdout, stderr } = await runCli(
      ['purge', '--instance', instance, '--older-than', '7d', '--yes', '--wait', '--report', reportPath],
      env,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/^progress: /m);
    const report = JSON.parse(await readFile(reportPath, 'utf8'));
    expect(report.counts).toMatchObject({
      selected: expected.length,
      deleted: expected.length - 2,
      already_gone: 1,
      dead_lettered: 1,
      skipped: 0,
      pending: 0,
    });
    expect(stdout).toContain(
      `selected ${expected.length}, deleted ${expected.length - 2}, already gone 1, dead-lettered 1, skipped 0`,
    );
    const byId = new Map<string, any>(report.tasks.map((t: any) => [t.task_id, t]));
    expect(byId.get(rejected!)).toMatchObject({
      outcome: 'dead_lettered',
      http_status: 400,
      error_code: '111400070',
    });
    expect(byId.get(gone!)).toMatchObject({ outcome: 'already_gone', http_status: 404 });
    const remaining = new Set(h.emulator.remainingTasks({ projectId: PURGE_PROJECT_ID }).map((t) => t.id));
    for (const t of report.tasks) expect(remaining.has(t.task_id)).toBe(t.outcome !== 'deleted');
    expect(h.emulator.stats().deletions.count - deletionsBefore).toBe(report.counts.deleted);
    const job = await h.queue.getJob(
      buildJobId({ project_id: PURGE_PROJECT_ID, instance_id: instance, task_id: expected[2]! }),
    );
    expect(job?.data.run_id).toBe(report.run_id);
    expect(report.run_id).toMatch(/^purge-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  });
});

describe('purge in process', () => {
  function deps(answer: boolean): PurgeDeps & { out: string[] } {
    const out: string[] = [];
    const write = (s: string) => out.push(s);
    const config = loadConfig(env);
    return {
      config,
      out,
      stdout: { write },
      stderr: { write },
      now: () => new Date(),
      interactive: true,
      confirm: () => Promise.resolve(answer),
      createdBy: 'test@host',
    };
  }
  const flags = (overrides: Partial<PurgeFlags>): PurgeFlags => ({
    instance: [instances[3]!],
    max: 1000,
    concurrency: 8,
    ...overrides,
  });

  it('refuses to delete without --yes when not on a terminal, before listing anything', async () => {
    const d = { ...deps(true), interactive: false };
    const listed = h.emulator.stats().requests.byRoute.listTasks;
    await expect(runPurge(flags({ olderThan: '30d' }), d)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/pass --yes/),
    });
    expect(h.emulator.stats().requests.byRoute.listTasks).toEqual(listed);
  });

  it('apply refuses a plan older than --max-age unless --allow-stale', async () => {
    const plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8'));
    const stale = join(dir, 'stale.json');
    await writeFile(
      stale,
      JSON.stringify({ ...plan, created_at: new Date(Date.now() - 2 * DAY_MS).toISOString() }),
    );
    await expect(runPurgeApply(stale, { yes: true, maxAge: '24h' }, deps(true))).rejects.toMatchObject({
      code: 'INVALID_PLAN',
      message: expect.stringMatching(/older than --max-age/),
    });
    // Its jobs finished within the dedupe window: applying again follows them as duplicates, ended deleted.
    expect(
      await runPurgeApply(stale, { yes: true, maxAge: '24h', allowStale: true, wait: true }, deps(true)),
    ).toBe(0);
  });

  it('asks on a terminal and enqueues nothing when the answer is no', async () => {
    const d = deps(false);
    expect(await runPurge(flags({ olderThan: '7d' }), d)).toBe(1);
    expect(d.out.join('')).toMatch(/aborted: nothing was enqueued/);
    const id = [
      ...expectedSelection(h.emulator, { olderThanMs: 7 * DAY_MS, instances: [instances[3]!] }),
    ][0]!;
    expect(
      await h.queue.getJob(
        buildJobId({ project_id: PURGE_PROJECT_ID, instance_id: instances[3]!, task_id: id }),
      ),
    ).toBeUndefined();
  });

  it('a second run follows tasks already queued by the first as part of its own run', async () => {
    // No worker while the first run enqueues, so its jobs are still waiting when the second run lists.
    await worker.close();
    const expected = expectedSelection(h.emulator, { olderThanMs: 7 * DAY_MS, instances: [instances[3]!] });
    expect(await runPurge(flags({ olderThan: '7d' }), deps(true))).toBe(0);
    const reportPath = join(dir, 'second.json');
    const secondDeps = deps(true);
    const second = runPurge(flags({ olderThan: '7d', wait: true, report: reportPath }), secondDeps);
    await waitFor(() => secondDeps.out.join('').includes('already queued'), 'the second run to enqueue');
    worker = await h.startWorker();
    expect(await second).toBe(0);
    const report = JSON.parse(await readFile(reportPath, 'utf8'));
    expect(report.counts).toMatchObject({
      selected: expected.size,
      enqueued: 0,
      duplicates: expected.size,
      deleted: expected.size,
    });
    expect(report.tasks.every((t: any) => t.duplicate === true && t.outcome === 'deleted')).toBe(true);
    const remaining = new Set(h.emulator.remainingTasks({ projectId: PURGE_PROJECT_ID }).map((t) => t.id));
    for (const id of expected) expect(remaining.has(id)).toBe(false);
  });
});
