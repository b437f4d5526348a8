/**
 * Hostile input, part 1 (issue 7): bad configuration values, CLI arguments and task files, each fed
 * to the real CLI process (dist/bin/cli.js). Each must end with exit code 64 and a clear one-line
 * error naming what is wrong, never a stack trace, and leave nothing enqueued. Part 2 (HTTP bodies
 * and raw queue payloads) is hostile-input-api-queue.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config/config.js';
import { createDcsClient } from '../../src/dcs/dcs-client.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { CleanupError, isCleanupError } from '../../src/errors.js';
import { runEnqueue, type EnqueueDeps } from '../../src/cli/enqueue-command.js';
import { fromChunks } from '../support/byte-source.js';
import { CLI, runCli } from '../support/cli-process.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';

const GOOD = {
  project_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  instance_id: '8f1e22ab-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
};
const HEADER = 'project_id,instance_id,task_id\n';
const row = (taskId: string): string => `${GOOD.project_id},${GOOD.instance_id},${taskId}\n`;
const validRows = (n: number): string => Array.from({ length: n }, (_, i) => row(`t${i}`)).join('');

/** A configuration value that must be refused, with what the error must name. */
interface ConfigCase {
  env: Env;
  names: RegExp;
  /** Text the message must not repeat (a password, a token). */
  secret?: string;
}

const CONFIG_CASES: ConfigCase[] = [
  { env: { REDIS_URL: 'http://127.0.0.1:6379' }, names: /REDIS_URL: must be a redis/ },
  {
    env: { REDIS_URL: 'redis://user:hunter2-secret@:bad:port' },
    names: /REDIS_URL/,
    secret: 'hunter2-secret',
  },
  { env: { CLEANUP_PREFIX: 'has space' }, names: /CLEANUP_PREFIX/ },
  { env: { CLEANUP_PREFIX: 'p'.repeat(65) }, names: /CLEANUP_PREFIX: .*at most 64/ },
  { env: { DCS_REGION: 'cn-north-4.evil.example' }, names: /DCS_REGION: must look like cn-north-4/ },
  { env: { DCS_REGION: 'CN-NORTH-4' }, names: /DCS_REGION/ },
  { env: { DCS_REGION: '' }, names: /DCS_REGION/ },
  {
    env: { DCS_ENDPOINT: 'http://10.0.0.1' },
    names: /DCS_ENDPOINT: must be https:\/\/, or plain http:\/\/ to a loopback host/,
  },
  { env: { DCS_ENDPOINT: 'http://localhost.evil.example' }, names: /DCS_ENDPOINT: must be https/ },
  { env: { DCS_ENDPOINT: 'http://127.0.0.1.nip.io:8080' }, names: /DCS_ENDPOINT: must be https/ },
  { env: { DCS_ENDPOINT: 'http://[::ffff:a00:1]/' }, names: /DCS_ENDPOINT: must be https/ },
  { env: { DCS_ENDPOINT: 'http://0.0.0.0:80' }, names: /DCS_ENDPOINT: must be https/ },
  { env: { DCS_ENDPOINT: 'ftp://127.0.0.1/' }, names: /DCS_ENDPOINT/ },
  { env: { DCS_ENDPOINT: 'javascript:alert(1)' }, names: /DCS_ENDPOINT/ },
  { env: { DCS_ENDPOINT: 'https://dcs.example.com/?token=x' }, names: /DCS_ENDPOINT: must not have a query/ },
  {
    env: { DCS_ENDPOINT: 'dcs.cn-north-4.myhuaweicloud.com' },
    names: /DCS_ENDPOINT: must be an absolute URL/,
  },
  { env: { DCS_PROJECT_ID: '../etc/passwd' }, names: /DCS_PROJECT_ID/ },
  { env: { LOG_LEVEL: 'verbose' }, names: /LOG_LEVEL/ },
  { env: { WORKER_CONCURRENCY: '1e3' }, names: /WORKER_CONCURRENCY: must be a whole number/ },
  { env: { WORKER_CONCURRENCY: '0' }, names: /WORKER_CONCURRENCY/ },
  { env: { DCS_HEADERS_TIMEOUT_MS: '' }, names: /DCS_HEADERS_TIMEOUT_MS/ },
  { env: { API_PORT: '65536' }, names: /API_PORT/ },
  {
    env: { RETRY_THROTTLE_MIN_MS: '5000', RETRY_THROTTLE_MAX_MS: '100' },
    names: /RETRY_THROTTLE_MAX_MS: must be at least/,
  },
  { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' }, names: /NODE_TLS_REJECT_UNAUTHORIZED: must be unset or 1/ },
  { env: { DCS_REQUEST_TIMEOUT_MS: '0' }, names: /DCS_REQUEST_TIMEOUT_MS/ },
];

/** A CLI invocation that must be refused with exit code 64. */
interface CliCase {
  what: string;
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
  stderr: RegExp;
}

/** Task files (CSV unless named otherwise) that must be refused whole. */
const FILE_CASES: { name: string; content: string | Buffer; stderr: RegExp }[] = [
  { name: 'empty.csv', content: '', stderr: /no tasks: the input is empty/ },
  { name: 'blank.csv', content: '\n  \n\t\n', stderr: /no tasks/ },
  { name: 'header-only.csv', content: HEADER, stderr: /header but no rows/ },
  {
    name: 'utf16.csv',
    content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(HEADER, 'utf16le')]),
    stderr: /UTF-16 byte-order mark/,
  },
  {
    name: 'binary.csv',
    content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    stderr: /line 1: is not valid UTF-8|NUL byte/,
  },
  {
    name: 'latin1.csv',
    content: Buffer.concat([Buffer.from(HEADER), Buffer.from([0x70, 0xe9, 0x2c, 0x69, 0x2c, 0x74, 0x0a])]),
    stderr: /line 2: is not valid UTF-8/,
  },
  {
    name: 'missing-column.csv',
    content: `project_id,instance_id\n${GOOD.project_id},${GOOD.instance_id}\n`,
    stderr: /missing column task_id/,
  },
  {
    name: 'typo-column.csv',
    content: `project_id,instance_id,taks_id\n${row('t1')}`,
    stderr: /unknown column "taks_id"/,
  },
  {
    name: 'twice-column.csv',
    content: `project_id,instance_id,task_id,task_id\n${row('t1')}`,
    stderr: /column task_id appears twice/,
  },
  {
    name: 'short-row.csv',
    content: `${HEADER}${validRows(3)}${GOOD.project_id},${GOOD.instance_id}\n`,
    stderr: /line 5: task_id: missing/,
  },
  {
    name: 'long-row.csv',
    content: `${HEADER}${validRows(2)}${GOOD.project_id},${GOOD.instance_id},t9,extra\n`,
    stderr: /line 4: 1 field\(s\) more than the header/,
  },
  {
    name: 'stray-quote.csv',
    content: `${HEADER}${validRows(2)}${GOOD.project_id},"${GOOD.instance_id},t9\n${row('t10')}`,
    stderr: /malformed CSV/,
  },
  {
    name: 'long-line.csv',
    content: `${HEADER}${'x'.repeat(100_000)}\n`,
    stderr: /line 2: is longer than 65536 bytes/,
  },
  {
    name: 'bad-id.csv',
    content: `${HEADER}${validRows(5)}${row('t/../1')}`,
    stderr: /line 7: task_id: must be 1 to 64 letters, digits or "-"/,
  },
  { name: 'control-char.csv', content: `${HEADER}${row('t\u00071')}`, stderr: /line 2: task_id/ },
  {
    name: 'cr-only.csv',
    content: `${HEADER.trimEnd()}\r${row('t1').trimEnd()}\r`,
    stderr: /header: unknown column/,
  },
  {
    name: 'bom-in-middle.csv',
    content: `\uFEFF${HEADER}${row('t1')}\uFEFF${HEADER}${row('t2')}`,
    stderr: /line 3: project_id/,
  },
  {
    name: 'bad-region.csv',
    content: `project_id,instance_id,task_id,region\n${row('t1').trimEnd()},cn-north-4.evil.example\n`,
    stderr: /line 2: region: must look like cn-north-4/,
  },
  {
    name: 'made-up-region.csv',
    content: `project_id,instance_id,task_id,region\n${row('t1').trimEnd()},cn-north-4\n${row('t2').trimEnd()},zz-mars-1\n`,
    stderr: /line 3: region: unknown region "zz-mars-1"/,
  },
  {
    name: 'made-up-region.jsonl',
    content: `${JSON.stringify({ ...GOOD, task_id: 't1', region: 'xx-fake-9' })}\n`,
    stderr: /line 1: region: unknown region "xx-fake-9"/,
  },
  {
    name: 'not-json.jsonl',
    content: `{project_id: "p", instance_id: "i", task_id: "t"}\n`,
    stderr: /line 1: not valid JSON/,
  },
  {
    name: 'unknown-key.jsonl',
    content: `${JSON.stringify({ ...GOOD, task_id: 't1', taskid: 'x' })}\n`,
    stderr: /line 1: "taskid": unknown key/,
  },
  {
    name: 'number-id.jsonl',
    content: `${JSON.stringify({ ...GOOD, task_id: 12345 })}\n`,
    stderr: /line 1: task_id/,
  },
  {
    name: 'null-line.jsonl',
    content: `${JSON.stringify({ ...GOOD, task_id: 't1' })}\nnull\n`,
    stderr: /line 2: expected a JSON object/,
  },
  {
    name: 'proto.jsonl',
    content: `{"__proto__":{"task_id":"t1"},"project_id":"${GOOD.project_id}","instance_id":"${GOOD.instance_id}"}\n`,
    stderr: /line 1: .*(unknown key|task_id)/,
  },
  {
    name: 'tasks.txt',
    content: `${HEADER}${row('t1')}`,
    stderr: /cannot tell the format from the extension/,
  },
];

const LONG_ID = 'a'.repeat(65);

/** `$P` and `$I` stand for a good project and instance id; split on spaces. */
const argv = (line: string): string[] =>
  line.split(' ').map((w) => (w === '$P' ? GOOD.project_id : w === '$I' ? GOOD.instance_id : w));

const CLI_CASES: CliCase[] = [
  { what: 'no task at all', args: argv('enqueue'), stderr: /nothing to enqueue: pass --task/ },
  {
    what: 'only empty task ids',
    args: [...argv('enqueue --project $P --instance $I --task'), ' , '],
    stderr: /argument ' , ' is invalid\. empty value in the list/,
  },
  {
    what: 'an empty task id next to a valid one',
    args: [...argv('enqueue --project $P --instance $I --task t1 --task'), ''],
    stderr: /argument '' is invalid\. empty value in the list/,
  },
  { what: 'no project', args: argv('enqueue --instance $I --task t1'), stderr: /--project is required/ },
  { what: 'no instance', args: argv('enqueue --project $P --task t1'), stderr: /--instance is required/ },
  {
    what: 'path in a project id',
    args: argv('enqueue --project ../x --instance $I --task t1'),
    stderr: /--project "\.\.\/x": must be 1 to 64/,
  },
  {
    what: 'space in a task id',
    args: [...argv('enqueue --project $P --instance $I --task'), 't 1'],
    stderr: /--task "t 1"/,
  },
  {
    what: 'task id too long',
    args: argv(`enqueue --project $P --instance $I --task ${LONG_ID}`),
    stderr: /--task "a+…": must be 1 to 64/,
  },
  {
    what: 'upper-case region',
    args: argv('enqueue --project $P --instance $I --task t1 --region CN-NORTH-4'),
    stderr: /--region "CN-NORTH-4": must look like cn-north-4/,
  },
  {
    what: 'made-up region',
    args: argv('enqueue --project $P --instance $I --task t1 --region zz-mars-1'),
    stderr: /--region "zz-mars-1": unknown region "zz-mars-1"/,
  },
  {
    what: 'made-up purge region',
    args: argv('purge --project $P --all-instances --older-than 30d --dry-run --region zz-mars-1'),
    stderr: /--region: unknown region "zz-mars-1"/,
  },
  {
    what: 'region with a host',
    args: argv('enqueue --project $P --instance $I --task t1 --region cn-north-4.evil.example'),
    stderr: /--region/,
  },
  {
    what: 'reason too long',
    args: argv(`enqueue --project $P --instance $I --task t1 --reason ${'r'.repeat(201)}`),
    stderr: /--reason: must be at most 200/,
  },
  { what: 'chunk size 0', args: argv('enqueue --task t1 --chunk-size 0'), stderr: /--chunk-size/ },
  {
    what: 'chunk size not a number',
    args: argv('enqueue --task t1 --chunk-size 12abc'),
    stderr: /--chunk-size/,
  },
  {
    what: 'unknown format',
    args: argv('enqueue --file - --format xml'),
    stderr: /--format.*xml|Allowed choices/i,
  },
  { what: 'unknown option', args: argv('enqueue --frobnicate'), stderr: /unknown option '--frobnicate'/ },
  {
    what: 'file and task together',
    args: argv('enqueue --file - --task t1'),
    stdin: `${HEADER}${row('t1')}`,
    stderr: /--file names every task itself: drop --task/,
  },
  {
    what: 'missing file',
    args: argv('enqueue --file /nonexistent/tasks.csv'),
    stderr: /\/nonexistent\/tasks\.csv: cannot read: no such file/,
  },
  { what: 'a directory as file', args: argv('enqueue --file /tmp'), stderr: /\/tmp: is a directory/ },
  {
    what: 'JSON array on stdin',
    args: argv('enqueue --file -'),
    stdin: `[${JSON.stringify({ ...GOOD, task_id: 't1' })}]`,
    stderr: /the input is a JSON array/,
  },
  {
    what: 'binary on stdin',
    args: argv('enqueue --file - --format csv'),
    stdin: `${HEADER}\u0000\u0001\u0002`,
    stderr: /line 2: contains a NUL byte/,
  },
  {
    what: 'a stray quote on stdin',
    args: argv('enqueue --file - --format csv'),
    stdin: `${HEADER}${row('t1')}"${row('t2')}`,
    stderr: /malformed CSV/,
  },
  { what: 'worker concurrency 0', args: argv('worker --concurrency 0'), stderr: /--concurrency/ },
  { what: 'worker lock too short', args: argv('worker --lock-duration-ms 5'), stderr: /--lock-duration-ms/ },
  {
    what: 'negative rate limit',
    args: argv('worker --rate-limit -1'),
    stderr: /--rate-limit|unknown option '-1'/,
  },
  { what: 'unknown command', args: argv('frobnicate'), stderr: /unknown command 'frobnicate'/ },
  {
    what: 'region in the environment',
    args: argv('enqueue --project $P --instance $I --task t1'),
    env: { DCS_REGION: 'cn-north-4/../x' },
    stderr: /DCS_REGION: must look like cn-north-4/,
  },
  {
    what: 'plain-http endpoint for a worker',
    args: argv('worker'),
    env: { DCS_ENDPOINT: 'http://192.0.2.10:8080', CLOUD_SDK_AK: 'AK', CLOUD_SDK_SK: 'SK' },
    stderr: /DCS_ENDPOINT: must be https/,
  },
  {
    what: 'worker without credentials',
    args: argv('worker'),
    stderr: /missing credentials: set CLOUD_SDK_AK and CLOUD_SDK_SK/,
  },
];

/** Lines that betray a crash instead of a handled error. */
const CRASH = /^\s+at |node_modules|\.(ts|js):\d+|Unhandled|TypeError|RangeError|SyntaxError/m;

describe('hostile input: configuration, CLI arguments, task files', () => {
  let dir: string;
  let redis: Redis;
  const prefix = uniquePrefix('hostile-cli');

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    dir = await mkdtemp(join(tmpdir(), 'hostile-input-'));
    await mkdir(join(dir, 'files'));
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    redis?.disconnect();
    await deletePrefix(prefix);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function jobKeys(): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    for (let page = 0; page < 1_000; page++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    return found;
  }

  it('has a corpus of at least 50 bad inputs in this file', () => {
    expect(CONFIG_CASES.length + CLI_CASES.length + FILE_CASES.length).toBeGreaterThanOrEqual(50);
  });

  it.each(
    CONFIG_CASES.map(
      (c) => [Object.keys(c.env).join(' + '), JSON.stringify(Object.values(c.env)).slice(0, 60), c] as const,
    ),
  )('refuses %s = %s with INVALID_CONFIG naming it', (_name, _value, c) => {
    let error: unknown;
    try {
      loadConfig(c.env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CleanupError);
    expect((error as CleanupError).code).toBe('INVALID_CONFIG');
    expect((error as CleanupError).message).toMatch(c.names);
    for (const name of Object.keys(c.env))
      expect((error as CleanupError).field).toContain(
        name.startsWith('RETRY_THROTTLE_MIN') ? 'RETRY_THROTTLE_MAX_MS' : name,
      );
    if (c.secret !== undefined) expect((error as CleanupError).message).not.toContain(c.secret);
  });

  it('will not start with NODE_TLS_REJECT_UNAUTHORIZED=0 in its environment: exit 64, the variable named', async () => {
    for (const args of [['status'], ['worker', '--exit-when-idle']]) {
      const run = await runCli(args, {
        NODE_TLS_REJECT_UNAUTHORIZED: '0',
        REDIS_URL,
        CLEANUP_PREFIX: prefix,
        CLOUD_SDK_AK: 'AK',
        CLOUD_SDK_SK: 'SK',
      });
      expect(run.code, run.stderr).toBe(64);
      expect(run.stderr).toContain('NODE_TLS_REJECT_UNAUTHORIZED: must be unset or 1');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses a plain-http, non-loopback endpoint in the DCS client too, by the same rule as DCS_ENDPOINT', () => {
    for (const endpoint of [
      'http://10.0.0.1',
      'http://localhost.evil.example',
      'http://[::ffff:7f00:1]:80',
    ]) {
      expect(() => createDcsClient({ endpoint, credentials: new Credentials('AK', 'SK') })).toThrow(
        /endpoint must be https:\/\/, or plain http:\/\/ to a loopback host/,
      );
    }
  });

  // Concurrent: each case is its own process; vitest runs a few at a time (maxConcurrency).
  it.concurrent.for(CLI_CASES)('CLI: $what exits 64 with one clear line', async (c, { expect }) => {
    const result = await runCli(c.args, { REDIS_URL, CLEANUP_PREFIX: prefix, ...c.env }, c.stdin);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toMatch(c.stderr);
    expect(result.stderr).not.toMatch(CRASH);
    expect(result.stdout).toBe('');
  });

  /**
   * The enqueue command's body in this process (the CLI cases above cover the process around it):
   * what it prints, and its exit code as bin/cli.ts and runCommand would set it.
   */
  async function enqueueFile(path: string): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    const deps: EnqueueDeps = {
      config: loadConfig({ REDIS_URL, CLEANUP_PREFIX: prefix }),
      stdin: fromChunks(),
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
    };
    try {
      const code = await runEnqueue({ file: path, source: 'cli', chunkSize: 1_000 }, deps);
      return { code, stderr };
    } catch (err) {
      // Anything but a CleanupError is a crash: let it fail the test.
      if (!isCleanupError(err)) throw err;
      return {
        code: err.code.startsWith('INVALID_') ? 64 : 1,
        stderr: `${stderr}dcs-cleanup: ${err.message}\n`,
      };
    }
  }

  it.for(FILE_CASES)('task file $name is refused whole, naming the line and the problem', async (c) => {
    const path = join(dir, 'files', c.name);
    await writeFile(path, c.content);
    const result = await enqueueFile(path);
    expect(result.code, result.stderr).toBe(64);
    expect(result.stderr).toMatch(c.stderr);
    expect(result.stderr).not.toMatch(CRASH);
    expect(await jobKeys(), 'nothing enqueued').toEqual([]);
  });

  it('still takes a UTF-8 byte-order mark and CRLF line ends (the control case)', async () => {
    const path = join(dir, 'files', 'bom-crlf.csv');
    await writeFile(path, `\uFEFF${HEADER}${validRows(3)}`.replace(/\n/g, '\r\n'));
    const result = await runCli(['enqueue', '--file', path, '--json'], {
      REDIS_URL,
      CLEANUP_PREFIX: `${prefix}-control`,
    });
    await deletePrefix(`${prefix}-control`);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ enqueued: 3, duplicates: 0, invalid: 0 });
  });

  it('left nothing at all under its prefix', async () => {
    expect(await jobKeys()).toEqual([]);
  });
});
