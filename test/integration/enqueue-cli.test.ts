/**
 * `dcs-cleanup enqueue` as a real child process (dist/bin/cli.js) against the shared Redis, each test
 * under its own BullMQ prefix, all of them deleted afterwards.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { openQueue } from '../../src/queue/open-queue.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJobId } from '../../src/queue/job-contract.js';
import { CLI, runCli } from '../support/cli-process.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';

const HEADER = 'project_id,instance_id,task_id\n';

describe('dcs-cleanup enqueue', () => {
  let connection: Redis;
  let dir: string;
  const prefixes: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    dir = await mkdtemp(join(tmpdir(), 'enqueue-cli-test-'));
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(prefix);
    connection?.disconnect();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh prefix, and the environment that points the CLI at it. */
  function isolate(extra: Record<string, string> = {}) {
    const prefix = uniquePrefix('enqueue');
    prefixes.push(prefix);
    return { prefix, env: { REDIS_URL, CLEANUP_PREFIX: prefix, ...extra } };
  }

  async function enqueue(args: string[], env: Record<string, string>, stdin?: string) {
    return runCli(['enqueue', ...args], env, stdin);
  }

  async function withQueue<T>(prefix: string, body: (queue: Queue) => Promise<T>): Promise<T> {
    const queue = openQueue(connection, prefix);
    try {
      return await body(queue);
    } finally {
      await queue.close();
    }
  }

  const countJobs = (prefix: string) =>
    withQueue(prefix, (queue) => queue.getJobCountByTypes('wait', 'delayed', 'prioritized'));

  async function writeInput(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('enqueues one task given by flags and prints the counts as JSON', async () => {
    const { prefix, env } = isolate();
    const run = await enqueue(
      ['--project', 'p-1', '--instance', 'i-1', '--task', 't-1', '--region', 'cn-north-4', '--json'],
      env,
    );
    expect(run).toMatchObject({ code: 0, stdout: '{"enqueued":1,"duplicates":0,"invalid":0}\n', stderr: '' });
    const job = await withQueue(prefix, (q) =>
      q.getJob(buildJobId({ project_id: 'p-1', instance_id: 'i-1', task_id: 't-1' })),
    );
    expect(job?.data).toMatchObject({
      project_id: 'p-1',
      instance_id: 'i-1',
      task_id: 't-1',
      region: 'cn-north-4',
      source: 'cli',
    });
  });

  it('enqueues repeated --task flags for the DCS_PROJECT_ID project, with reason and source', async () => {
    const { prefix, env } = isolate({ DCS_PROJECT_ID: 'p-env' });
    const args = [
      '--instance',
      'i-1',
      '--task',
      'a',
      '--task',
      'b,c',
      '--reason',
      'OPS-1',
      '--source',
      'ops',
    ];
    const run = await enqueue(args, env);
    expect(run).toMatchObject({ code: 0, stdout: 'enqueued 3, duplicates 0, invalid 0\n' });
    expect(await countJobs(prefix)).toBe(3);
    const job = await withQueue(prefix, (q) =>
      q.getJob(buildJobId({ project_id: 'p-env', instance_id: 'i-1', task_id: 'c' })),
    );
    expect(job?.data).toMatchObject({ project_id: 'p-env', reason: 'OPS-1', source: 'ops' });
  });

  it('enqueues a CSV file with a BOM, CRLF, quotes and its columns in any order', async () => {
    const { prefix, env } = isolate();
    const csv =
      '\uFEFFTask_ID, region ,project_id,instance_id\r\n"t-1",cn-north-4,p-1,i-1\r\n\r\nt-2,,"p-1",i-1\r\n';
    const run = await enqueue(['--file', await writeInput('any-order.csv', csv), '--json'], env);
    expect(run).toMatchObject({ code: 0, stdout: '{"enqueued":2,"duplicates":0,"invalid":0}\n' });
    expect(await countJobs(prefix)).toBe(2);
  });

  it('reads JSON Lines from stdin, detected by the first character, and removes its spool file', async () => {
    const spool = join(dir, 'spool-ok');
    await mkdir(spool);
    const { prefix, env } = isolate({ TMPDIR: spool });
    const jsonl = ['a', 'b', 'c']
      .map((t) => JSON.stringify({ project_id: 'p', instance_id: 'i', task_id: t }))
      .join('\n');
    const run = await enqueue(['--file', '-', '--json'], env, `\n${jsonl}\n`);
    expect(run).toMatchObject({ code: 0, stdout: '{"enqueued":3,"duplicates":0,"invalid":0}\n' });
    expect(await countJobs(prefix)).toBe(3);
    expect(await readdir(spool)).toEqual([]);
  });

  it('refuses the whole input when a line is invalid: exit 64, line and field named, nothing enqueued', async () => {
    const { prefix, env } = isolate();
    const csv = `${HEADER}p,i,ok-1\np,i,not valid\np,i,ok-2\n`;
    const run = await enqueue(['--file', await writeInput('one-bad.csv', csv), '--json'], env);
    expect(run.code).toBe(64);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('1 invalid line, nothing was enqueued');
    expect(run.stderr).toContain('line 3: task_id: must be 1 to 64 letters, digits or "-"');
    expect(await countJobs(prefix)).toBe(0);
  });

  it('lists at most 20 invalid lines of stdin, counts the rest, and still removes the spool file', async () => {
    const spool = join(dir, 'spool-bad');
    await mkdir(spool);
    const { prefix, env } = isolate({ TMPDIR: spool });
    const run = await enqueue(['--file', '-'], env, HEADER + 'p,i,t!\n'.repeat(25) + 'p,i,fine\n');
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('stdin: 25 invalid lines');
    expect(run.stderr).toContain('line 21: task_id');
    expect(run.stderr).not.toContain('line 22: task_id');
    expect(run.stderr).toContain('... and 5 more');
    expect(await countJobs(prefix)).toBe(0);
    expect(await readdir(spool)).toEqual([]);
  });

  it('stops at an input that is not a task file, with the line and exit 64', async () => {
    const { prefix, env } = isolate();
    const run = await enqueue(
      ['--file', await writeInput('typo.csv', 'project_id,instance_id,taks_id\np,i,t\n')],
      env,
    );
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/typo\.csv: line 1: header: unknown column "taks_id"/);
    const empty = await enqueue(['--file', await writeInput('empty.jsonl', '')], env);
    expect(empty).toMatchObject({ code: 64, stderr: expect.stringContaining('no tasks') });
    expect(await countJobs(prefix)).toBe(0);
  });

  it('--skip-invalid enqueues the valid lines, lists the skipped ones and reports their count', async () => {
    const { prefix, env } = isolate();
    const jsonl =
      '{"project_id":"p","instance_id":"i","task_id":"a"}\n{"project_id":"p","instance_id":"i"}\n{"project_id":"p","instance_id":"i","task_id":"b"}\n';
    const run = await enqueue(
      ['--file', await writeInput('skip.ndjson', jsonl), '--skip-invalid', '--json'],
      env,
    );
    expect(run).toMatchObject({ code: 0, stdout: '{"enqueued":2,"duplicates":0,"invalid":1}\n' });
    expect(run.stderr).toContain('skipping 1 invalid line');
    expect(run.stderr).toContain('line 2: task_id');
    expect(await countJobs(prefix)).toBe(2);
  });

  it('reports the tasks of a second run as duplicates', async () => {
    const { prefix, env } = isolate();
    const first = await writeInput('first.csv', `${HEADER}p,i,a\np,i,b\n`);
    const second = await writeInput('second.csv', `${HEADER}p,i,b\np,i,c\np,i,c\n`);
    expect((await enqueue(['--file', first, '--json'], env)).stdout).toBe(
      '{"enqueued":2,"duplicates":0,"invalid":0}\n',
    );
    expect((await enqueue(['--file', second, '--json'], env)).stdout).toBe(
      '{"enqueued":1,"duplicates":2,"invalid":0}\n',
    );
    expect(await countJobs(prefix)).toBe(3);
  });

  it('refuses usage errors with exit 64 before touching Redis', async () => {
    const { env } = isolate({ REDIS_URL: 'redis://127.0.0.1:1' });
    const both = await enqueue(['--file', 'x.csv', '--instance', 'i', '--task', 't'], env);
    expect(both).toMatchObject({ code: 64, stderr: expect.stringContaining('drop --instance, --task') });
    const noProject = await enqueue(['--instance', 'i', '--task', 't'], env);
    expect(noProject).toMatchObject({ code: 64, stderr: expect.stringContaining('--project is required') });
    const badTask = await enqueue(['--project', 'p', '--instance', 'i', '--task', 'a b'], env);
    expect(badTask).toMatchObject({ code: 64, stderr: expect.stringContaining('--task "a b": must be') });
    const badChunk = await enqueue(['--task', 't', '--chunk-size', '0'], env);
    expect(badChunk).toMatchObject({
      code: 64,
      stderr: expect.stringContaining('--chunk-size must be between 1 and 10000'),
    });
  });

  it('fails fast with one clear line when Redis does not answer', async () => {
    const { env } = isolate({ REDIS_URL: 'redis://127.0.0.1:1' });
    const started = Date.now();
    const run = await enqueue(['--project', 'p', '--instance', 'i', '--task', 't'], env);
    const elapsedMs = Date.now() - started;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^dcs-cleanup: Redis at 127\.0\.0\.1:1 did not answer/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // About 1 s of reconnects plus process start-up; generous for a loaded CI machine.
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('describes every option, with examples, in --help', async () => {
    const run = await runCli(['enqueue', '--help'], { REDIS_URL });
    expect(run.code).toBe(0);
    for (const flag of [
      '--project',
      '--instance',
      '--task',
      '--region',
      '--file',
      '--format',
      '--reason',
      '--source',
      '--skip-invalid',
      '--json',
      '--chunk-size',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain('Examples:');
  });

  it('enqueues 100,000 CSV lines from a file', async () => {
    const { prefix, env } = isolate();
    const lines = Array.from({ length: 100_000 }, (_, i) => `p-1,i-${i % 7},t-${i},cn-north-4\n`);
    const path = await writeInput('100k.csv', `project_id,instance_id,task_id,region\n${lines.join('')}`);
    const started = Date.now();
    const run = await enqueue(['--file', path, '--json'], env);
    const elapsedMs = Date.now() - started;
    expect(run).toMatchObject({ code: 0, stdout: '{"enqueued":100000,"duplicates":0,"invalid":0}\n' });
    expect(await countJobs(prefix)).toBe(100_000);
    console.info(`enqueue of 100,000 CSV lines took ${elapsedMs} ms`);
  }, 180_000);
});
