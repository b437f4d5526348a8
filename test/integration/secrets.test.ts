/**
 * Secrets (issue 7): the whole pipeline at log level trace with distinctive AK, SK, security token
 * and API token, through successes, retries, dead letters, an authentication failure, a gateway that
 * echoes the request headers, the HTTP API and a purge dry run. Then every process's output, every
 * Redis key and value under the prefix (dead letters and the BullMQ event stream included), both
 * /metrics pages and every API answer are searched: the SK, the security token, the API token and
 * every Authorization header value sent must appear nowhere.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { createDcsClient } from '../../src/dcs/dcs-client.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { startCli, runCli, type CliProcess } from '../support/cli-process.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

const AK = 'AKCANARY7F3A9C1E5B2D';
const SK = 'SK-CANARY-7f3a9c1e-secret-5b2d-8e4f-do-not-print';
const TOKEN = 'TOKEN-CANARY-b61d0e2a-temporary-credential-4c9f';
const API_TOKEN = 'API-CANARY-0d9e8f7a6b5c4d3e2f1a';
const WRONG_API_TOKEN = 'WRONG-CANARY-1a2b3c4d5e6f7a8b9c0d';
const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Every key under `prefix` with its value, read by type (strings, hashes, lists, sets, zsets, streams). */
async function dumpPrefix(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  for (let page = 0; page < 1_000; page++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, 0, -1, 'WITHSCORES')
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : `(${type})`;
      parts.push(`${key} ${type} ${JSON.stringify(value)}`);
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return parts.join('\n');
}

/** The ways a secret could show up: as is, in part, base64, hex or URL-encoded. */
function forms(secret: string): string[] {
  const middle = secret.slice(Math.floor(secret.length / 3), Math.floor(secret.length / 3) + 12);
  return [
    secret,
    middle,
    Buffer.from(secret).toString('base64').slice(0, 20),
    Buffer.from(secret).toString('hex').slice(0, 24),
    encodeURIComponent(secret),
  ];
}

describe('secrets never leave the process that holds them', () => {
  const prefix = uniquePrefix('secrets');
  let emulator: Emulator;
  let proxy: RecordingProxy;
  let redis: Redis;
  const processes: { name: string; process: CliProcess }[] = [];
  const answers: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      rateLimitPerSecond: 0,
      credentials: { ak: AK, sk: SK, securityToken: TOKEN },
    });
    proxy = await startRecordingProxy(emulator.url);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    for (const { process } of processes) if (process.child.exitCode === null) process.child.kill('SIGKILL');
    await Promise.all(processes.map(({ process }) => process.exited));
    redis?.disconnect();
    await proxy?.close();
    await emulator?.close();
    await deletePrefix(prefix);
  });

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    REDIS_URL,
    CLEANUP_PREFIX: prefix,
    CLOUD_SDK_AK: AK,
    CLOUD_SDK_SK: SK,
    CLOUD_SDK_SECURITY_TOKEN: TOKEN,
    CLEANUP_API_TOKEN: API_TOKEN,
    DCS_ENDPOINT: proxy.url,
    DCS_PROJECT_ID: PROJECT,
    LOG_LEVEL: 'trace',
    RETRY_IN_PROCESS_RETRIES: '1',
    RETRY_IN_PROCESS_BASE_MS: '5',
    RETRY_BACKOFF_BASE_MS: '20',
    RETRY_BACKOFF_CAP_MS: '100',
    WORKER_PROBE_INTERVAL_MS: '300',
    ...extra,
  });

  function start(name: string, args: string[], extra: Record<string, string> = {}): CliProcess {
    const process = startCli(args, env(extra));
    processes.push({ name, process });
    return process;
  }

  it('through successes, retries, dead letters, a 401, an echoing gateway and the API', async () => {
    const instance = emulator.addInstance(PROJECT);
    const tasks = emulator.addTasks(
      instance.instance_id,
      Array.from({ length: 16 }, () => ({ status: 'SUCCESS' as const })),
    );
    const [retried, rejected, forbidden, unauthorized, echoed] = tasks.map((t) => t.id);
    emulator.scriptTask(retried!, [
      { status: 503 },
      { status: 502 },
      { status: 500, errorCode: '111500000' },
    ]);
    emulator.scriptTask(rejected!, [{ status: 400, errorCode: '111400070' }]);
    emulator.scriptTask(forbidden!, [{ status: 403, errorCode: 'DCS.4030' }]);
    emulator.scriptTask(unauthorized!, [{ status: 401, errorCode: 'APIGW.0301' }]);
    proxy.echoHeadersFor(echoed!);

    // Enqueue from a file on stdin: the producer process sees every credential in its environment.
    const csv = [
      'project_id,instance_id,task_id',
      ...tasks.slice(0, 12).map((t) => `${PROJECT},${instance.instance_id},${t.id}`),
    ].join('\n');
    const enqueue = startCli(['enqueue', '--file', '-'], env(), csv);
    processes.push({ name: 'enqueue', process: enqueue });
    expect(await enqueue.exited).toBe(0);

    const apiPort = await freePort();
    const metricsPort = await freePort();
    const api = start('serve', ['serve', '--port', String(apiPort), '--bull-board']);
    const worker = start('worker', [
      'worker',
      '--concurrency',
      '4',
      '--rate-limit',
      '0',
      '--metrics-port',
      String(metricsPort),
    ]);
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor(
      () =>
        fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      'the API to listen with Redis ready',
      30_000,
      200,
    );

    const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
      const response = await fetch(`${base}${path}`, init);
      const text = await response.clone().text();
      answers.push(`${path} ${response.status} ${JSON.stringify([...response.headers])} ${text}`);
      return response;
    };
    const auth = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
    const more = tasks
      .slice(12)
      .map((t) => ({ project_id: PROJECT, instance_id: instance.instance_id, task_id: t.id }));
    expect(
      (await call('/v1/deletions', { method: 'POST', headers: auth, body: JSON.stringify({ tasks: more }) }))
        .status,
    ).toBe(202);
    expect(
      (
        await call('/v1/deletions', {
          method: 'POST',
          headers: { ...auth, authorization: `Bearer ${WRONG_API_TOKEN}` },
          body: '{}',
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await call('/v1/deletions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(401);
    expect(
      (await call('/v1/deletions', { method: 'POST', headers: auth, body: '{"tasks":[{"task_id":"../x"}]}' }))
        .status,
    ).toBe(400);
    expect((await call('/admin/queues')).status).toBe(401);
    const purge = await call('/v1/purges', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ instances: [instance.instance_id], dry_run: true }),
    });
    expect(purge.status).toBe(200);

    // Everything selected ends deleted or in the dead letters (the 401 paused the queue until a probe passed).
    const expectedLeft = new Set([rejected, forbidden, echoed]);
    await waitFor(
      () =>
        emulator.remainingTasks({ instanceId: instance.instance_id }).every((t) => expectedLeft.has(t.id)),
      'every deletable task deleted',
      60_000,
      200,
    );
    await waitFor(
      async () =>
        (
          await call('/v1/dead-letters', { headers: auth }).then(
            (r) => r.json() as Promise<{ total: number }>,
          )
        ).total === 3,
      'three dead letters',
      30_000,
      300,
    );
    const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    answers.push(metricsText);
    await call('/metrics');
    const dlq = await runCli(['dlq', 'list', '--json'], env());
    expect(dlq.code).toBe(0);
    answers.push(dlq.stdout, dlq.stderr);

    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await api.exited).toBe(0);

    // The scenario happened as intended...
    const workerOut = worker.stdout();
    expect(workerOut).toContain('DCS rejected the credentials');
    expect(workerOut).toContain('"msg":"dcs request"');
    expect(workerOut).toContain('retry scheduled');
    const sentAuthorizations = proxy.received
      .map((h) => h.authorization)
      .filter((a): a is string => a !== undefined);
    expect(sentAuthorizations.length).toBeGreaterThan(20);
    expect(proxy.received.some((h) => h['x-security-token'] === TOKEN)).toBe(true);
    expect(dlq.stdout).toContain('[redacted]');

    // ...and no secret is anywhere.
    const haystacks: Record<string, string> = {
      redis: await dumpPrefix(redis, prefix),
      answers: answers.join('\n'),
      ...Object.fromEntries(
        processes.map(({ name, process }) => [`${name} output`, `${process.stdout()}\n${process.stderr()}`]),
      ),
    };
    const needles = [
      ...forms(SK).map((n) => ['SK', n] as const),
      ...forms(TOKEN).map((n) => ['security token', n] as const),
      ...forms(API_TOKEN).map((n) => ['API token', n] as const),
      ['wrong API token', WRONG_API_TOKEN] as const,
      ...sentAuthorizations.flatMap((a) => [
        ['Authorization', a] as const,
        ['signature', a.slice(a.indexOf('Signature=') + 10)] as const,
      ]),
    ];
    const found: string[] = [];
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [what, needle] of needles) if (text.includes(needle)) found.push(`${what} in ${where}`);
    }
    expect([...new Set(found)]).toEqual([]);
    expect(haystacks.redis!.length).toBeGreaterThan(1_000);
  }, 150_000);

  it.each(['metadata', 'assume_role', 'file'] as const)(
    'with credentials from %s, refreshed mid-run: no temporary AK secret or token in logs, Redis or dead letters',
    async (source) => {
      const emu = await startEmulator({
        rateLimitPerSecond: 0,
        credentials: { ak: AK, sk: SK, securityToken: TOKEN },
        temporaryCredentials: { lifetimeMs: 1_500 },
      });
      const recorder = await startRecordingProxy(emu.url);
      const runPrefix = uniquePrefix(`secrets-${source}`);
      const dir = mkdtempSync(join(tmpdir(), 'dcs-cleanup-secrets-'));
      try {
        const file = join(dir, 'credentials');
        writeFileSync(file, `[default]\nak = ${AK}\nsk = ${SK}\nsecurity_token = ${TOKEN}\n`);
        const instance = emu.addInstance(PROJECT);
        const tasks = emu.addTasks(
          instance.instance_id,
          Array.from({ length: 40 }, () => ({ status: 'SUCCESS' as const })),
        );
        emu.scriptTask(tasks[0]!.id, [{ status: 400, errorCode: '111400070' }]);
        recorder.echoHeadersFor(tasks[1]!.id);
        const runEnv = {
          ...env(),
          CLEANUP_PREFIX: runPrefix,
          DCS_ENDPOINT: recorder.url,
          CLOUD_SDK_CREDENTIALS_SOURCE: source,
          HUAWEICLOUD_METADATA_URL: emu.url,
          HUAWEICLOUD_IAM_ENDPOINT: emu.url,
          CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME: 'canary-domain',
          CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: 'canary-agency',
          CLOUD_SDK_CREDENTIALS_FILE: file,
          ...(source === 'metadata' || source === 'file'
            ? { CLOUD_SDK_AK: '', CLOUD_SDK_SK: '', CLOUD_SDK_SECURITY_TOKEN: '' }
            : {}),
        };
        const csv = [
          'project_id,instance_id,task_id',
          ...tasks.map((t) => `${PROJECT},${instance.instance_id},${t.id}`),
        ];
        const enqueue = await runCli(['enqueue', '--file', '-'], runEnv, csv.join('\n'));
        expect(enqueue.code).toBe(0);
        // 40 deletions at 10/s outlive several 1.5 s credentials.
        const worker = startCli(
          ['worker', '--concurrency', '4', '--rate-limit', '10', '--exit-when-idle'],
          runEnv,
        );
        expect(await worker.exited, worker.stderr()).toBe(0);
        const dlq = await runCli(['dlq', 'list', '--json'], runEnv);
        expect(dlq.code).toBe(0);
        expect(dlq.stdout).toContain('111400070');

        const issued = emu.issuedCredentials();
        if (source !== 'file') expect(issued.length).toBeGreaterThanOrEqual(2);
        const sentAuthorizations = recorder.received
          .map((h) => h.authorization)
          .filter((a): a is string => a !== undefined);
        expect(sentAuthorizations.length).toBeGreaterThan(30);
        const needles = [
          ...forms(SK).map((n) => ['SK', n] as const),
          ...forms(TOKEN).map((n) => ['security token', n] as const),
          ...issued.flatMap((set) => [
            ...forms(set.secret).map((n) => ['temporary SK', n] as const),
            ...forms(set.securitytoken).map((n) => ['temporary token', n] as const),
          ]),
          ...sentAuthorizations.map((a) => ['signature', a.slice(a.indexOf('Signature=') + 10)] as const),
        ];
        const haystacks: Record<string, string> = {
          redis: await dumpPrefix(redis, runPrefix),
          'worker output': `${worker.stdout()}\n${worker.stderr()}`,
          'enqueue output': `${enqueue.stdout}\n${enqueue.stderr}`,
          'dlq output': `${dlq.stdout}\n${dlq.stderr}`,
        };
        const found: string[] = [];
        for (const [where, text] of Object.entries(haystacks)) {
          for (const [what, needle] of needles) if (text.includes(needle)) found.push(`${what} in ${where}`);
        }
        expect([...new Set(found)]).toEqual([]);
      } finally {
        await recorder.close();
        await emu.close();
        await deletePrefix(runPrefix);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );

  it('the emulator takes its SK and security token from the environment, never from its command line', async () => {
    const emu = start(
      'emulator',
      ['emulator', '--port', '0', '--ak', AK, '--project', PROJECT, '--instances', '1'],
      {
        EMULATOR_SK: SK,
        EMULATOR_SECURITY_TOKEN: TOKEN,
      },
    );
    await waitFor(() => emu.stdout().includes('emulator_started'), 'the emulator to start');
    const { url } = JSON.parse(emu.stdout().split('\n')[0]!) as { url: string };
    // What `ps` shows of it: the AK, and neither secret.
    const cmdline = readFileSync(`/proc/${emu.child.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain(AK);
    for (const secret of [SK, TOKEN]) expect(cmdline).not.toContain(secret);
    // It accepts exactly that key pair and token.
    const client = createDcsClient({ endpoint: url, credentials: new Credentials(AK, SK, TOKEN) });
    expect((await client.probe(PROJECT)).ok).toBe(true);
    await client.close();
    emu.child.kill('SIGTERM');
    expect(await emu.exited).toBe(0);

    const refused = await runCli(['emulator', '--port', '0', '--ak', AK, '--sk', SK], env());
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('--sk is refused');
    expect(refused.stderr).toContain('set EMULATOR_SK instead');
    expect(refused.stderr).not.toContain(SK);
  }, 60_000);

  it('the demo prints REDIS_URL without its password', async () => {
    const url = new URL(REDIS_URL);
    url.password = 'REDIS-PASSWORD-CANARY-5e6f';
    const demo = await runCli(
      ['demo', '--instances', '1', '--tasks-per-instance', '4', '--fault-rate', '0', '--json'],
      { REDIS_URL: url.toString() },
    );
    expect(demo.code).toBe(0);
    const summary = JSON.parse(demo.stdout.trim().split('\n').at(-1)!) as { redis: string };
    expect(summary.redis).toContain(':****@');
    expect(`${demo.stdout}${demo.stderr}`).not.toContain('REDIS-PASSWORD-CANARY');
  }, 120_000);
});
