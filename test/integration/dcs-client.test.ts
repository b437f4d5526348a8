import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDcsClient, type DcsClient, type DcsClientOptions } from '../../src/dcs/dcs-client.js';
import { DcsRequestError } from '../../src/dcs/dcs-request-error.js';
import { isCleanupError } from '../../src/errors.js';
import { Credentials } from '../../src/huawei/credentials.js';
import {
  SIGNING_ALGORITHM,
  buildCanonicalRequest,
  buildStringToSign,
  formatSdkDate,
  hashPayload,
} from '../../src/huawei/signer.js';
import {
  answer,
  startScriptedServer,
  type ReceivedRequest,
  type ScriptedServer,
} from '../support/scripted-server.js';

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const INSTANCE = '5560df16-cebf-4473-95c4-d1b573c16e79';
const TASK = '8abf6e1e72c12e7c0172c15b508500aa';
const REF = { projectId: PROJECT, instanceId: INSTANCE, taskId: TASK };
const T0 = new Date('2026-03-01T10:00:00.000Z');
const AK = 'HPUAEXAMPLEAK0001';
const SK = 'example-secret-key-do-not-use';
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

let server: ScriptedServer;
let clients: DcsClient[];

beforeEach(async () => {
  server = await startScriptedServer();
  clients = [];
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
});

function client(options: Partial<DcsClientOptions> = {}): DcsClient {
  const c = createDcsClient({
    endpoint: server.url,
    credentials: new Credentials(AK, SK),
    now: () => T0,
    ...options,
  });
  clients.push(c);
  return c;
}

/** Recomputes the signature from what the server received, as the gateway does. */
function verifySignature(req: ReceivedRequest, credentials: Credentials): boolean {
  const auth = String(req.headers.authorization);
  const m = /^(\S+) Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m || m[1] !== SIGNING_ALGORITHM || m[2] !== credentials.accessKeyId) return false;
  const names = m[3]!.split(';');
  const url = new URL(req.url, 'http://placeholder');
  const canonical = buildCanonicalRequest({
    method: req.method,
    pathname: url.pathname,
    searchParams: url.searchParams,
    signedHeaders: names.map((n) => [n, String(req.headers[n])] as const),
    payloadHash: hashPayload(req.body),
  });
  const stringToSign = buildStringToSign(String(req.headers['x-sdk-date']), canonical);
  return credentials.hmacHex(stringToSign) === m[4];
}

function signedHeaderNames(req: ReceivedRequest): string[] {
  return /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization))![1]!.split(';');
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A server script that sends a 200 and then one body byte a second, until stopped or disconnected. */
function dripForever() {
  const timers = new Set<NodeJS.Timeout>();
  let sent = 0;
  return {
    script: ({ res }: ReceivedRequest): void => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000000' });
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(' ');
        sent++;
      }, 1_000);
      timers.add(timer);
    },
    bytesSent: () => sent,
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('DcsClient.deleteBackgroundTask: the request', () => {
  it('sends one DELETE signed with SDK-HMAC-SHA256 that the server can verify', async () => {
    server.script(({ res }) => answer(res, 200, { message: '' }));
    const outcome = await client().deleteBackgroundTask(REF);

    expect(outcome.verdict.action).toBe('deleted');
    const [req] = server.requests;
    expect(server.requests).toHaveLength(1);
    expect(req!.method).toBe('DELETE');
    expect(req!.url).toBe(`/v2/${PROJECT}/instances/${INSTANCE}/tasks/${TASK}`);
    expect(req!.headers['x-project-id']).toBe(PROJECT);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-sdk-date']).toBe(formatSdkDate(T0));
    expect(req!.headers['user-agent']).toBe(`dcs-cleanup/${VERSION}`);
    expect(req!.headers['x-security-token']).toBeUndefined();
    expect(signedHeaderNames(req!)).toEqual(['content-type', 'host', 'x-project-id', 'x-sdk-date']);
    expect(verifySignature(req!, new Credentials(AK, SK))).toBe(true);
    expect(verifySignature(req!, new Credentials(AK, 'another-secret'))).toBe(false);
  });

  it('sends and signs X-Security-Token with temporary credentials', async () => {
    server.script(({ res }) => answer(res, 204));
    const credentials = new Credentials(AK, SK, 'temporary-token-value');
    await client({ credentials }).deleteBackgroundTask(REF);

    const req = server.requests[0]!;
    expect(req.headers['x-security-token']).toBe('temporary-token-value');
    expect(signedHeaderNames(req)).toContain('x-security-token');
    expect(verifySignature(req, credentials)).toBe(true);
  });

  it('signs every attempt afresh: two calls at two clock values carry two X-Sdk-Date values', async () => {
    server.script(({ res }) => answer(res, 204));
    let now = T0;
    const c = client({ now: () => now });
    await c.deleteBackgroundTask(REF);
    now = new Date(T0.getTime() + 3_600_000);
    await c.deleteBackgroundTask(REF);

    const [first, second] = server.requests;
    expect(first!.headers['x-sdk-date']).toBe('20260301T100000Z');
    expect(second!.headers['x-sdk-date']).toBe('20260301T110000Z');
    expect(first!.headers.authorization).not.toBe(second!.headers.authorization);
    expect(verifySignature(second!, new Credentials(AK, SK))).toBe(true);
  });

  it('reuses keep-alive connections rather than opening one per call', async () => {
    server.script(({ res }) => answer(res, 200, { message: '' }));
    const c = client();
    for (let i = 0; i < 6; i++) await c.deleteBackgroundTask(REF);
    // undici's pool may open a second socket before the first reports drained; never one per call.
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('keeps the path prefix of an endpoint that has one', async () => {
    server.script(({ res }) => answer(res, 204));
    await client({ endpoint: `${server.url}/dcs/` }).deleteBackgroundTask(REF);
    const req = server.requests[0]!;
    expect(req.url).toBe(`/dcs/v2/${PROJECT}/instances/${INSTANCE}/tasks/${TASK}`);
    expect(verifySignature(req, new Credentials(AK, SK))).toBe(true);
  });

  it.each([
    ['project_id', { ...REF, projectId: 'bad/../id' }],
    ['instance_id', { ...REF, instanceId: '' }],
    ['task_id', { ...REF, taskId: 'x'.repeat(65) }],
  ])('rejects an invalid %s with INVALID_ID and sends nothing', async (field, ref) => {
    const err: unknown = await client()
      .deleteBackgroundTask(ref)
      .catch((e: unknown) => e);
    expect(isCleanupError(err, 'INVALID_ID')).toBe(true);
    expect((err as { field: string }).field).toBe(field);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a plain-http endpoint that is not loopback', () => {
    expect(() =>
      createDcsClient({ endpoint: 'http://dcs.example.com', credentials: new Credentials(AK, SK) }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});

describe('DcsClient.deleteBackgroundTask: answers', () => {
  it('reads 200 {"message":""} as deleted and captures X-Request-Id', async () => {
    server.script(({ res }) => answer(res, 200, { message: '' }, { 'x-request-id': 'rid-200' }));
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ status: 200, requestId: 'rid-200', verdict: { action: 'deleted' } });
    expect(outcome.errorCode).toBeUndefined();
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reads 204 without a body as deleted', async () => {
    server.script(({ res }) => {
      res.writeHead(204);
      res.end();
    });
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ status: 204, verdict: { action: 'deleted' } });
  });

  it.each([
    {
      shape: 'DCS {"error_code","error_msg"}',
      status: 400,
      body: { error_code: '111400070', error_msg: 'Invalid task id', error_ext_msg: null },
      expected: { errorCode: '111400070', errorMsg: 'Invalid task id', verdict: { action: 'rejected' } },
    },
    {
      shape: 'older {"error":{"code","message"}}',
      status: 404,
      body: { error: { code: '111404022', message: 'The instance does not exist.' } },
      expected: {
        errorCode: '111404022',
        errorMsg: 'The instance does not exist.',
        verdict: { action: 'already_gone' },
      },
    },
    {
      shape: 'gateway {"error_code":"APIGW.xxxx","error_msg","request_id"}',
      status: 401,
      body: {
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information',
        request_id: 'rid-body',
      },
      expected: { errorCode: 'APIGW.0301', requestId: 'rid-body', verdict: { action: 'auth_failed' } },
    },
    {
      shape: 'proxy HTML page',
      status: 502,
      body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
      expected: { errorCode: undefined, verdict: { action: 'retry', reason: 'http_502' } },
    },
    {
      shape: 'empty body',
      status: 404,
      body: undefined,
      expected: { errorCode: undefined, verdict: { action: 'rejected', reason: 'http_404_unrecognised' } },
    },
    {
      shape: 'busy instance',
      status: 400,
      body: { error_code: '111400017', error_msg: 'A background task is running' },
      expected: { errorCode: '111400017', verdict: { action: 'busy' } },
    },
  ])('reads a $status $shape body', async ({ status, body, expected }) => {
    server.script(({ res }) => answer(res, status, body));
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ status, ...expected });
  });

  it('prefers the X-Request-Id header over the body request_id', async () => {
    server.script(({ res }) =>
      answer(
        res,
        429,
        { error_code: 'APIGW.0308', request_id: 'from-body' },
        { 'x-request-id': 'from-header' },
      ),
    );
    expect((await client().deleteBackgroundTask(REF)).requestId).toBe('from-header');
  });

  it('reads Retry-After in seconds on a 429', async () => {
    server.script(({ res }) => answer(res, 429, { error_code: 'APIGW.0308' }, { 'retry-after': '3' }));
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({
      retryAfterMs: 3000,
      verdict: { action: 'throttled' },
    });
  });

  it('reads Retry-After as an HTTP-date relative to the client clock', async () => {
    const at = new Date(T0.getTime() + 5_000).toUTCString();
    server.script(({ res }) => answer(res, 429, { error_code: 'APIG.0308' }, { 'retry-after': at }));
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({
      retryAfterMs: 5000,
      verdict: { action: 'throttled' },
    });
  });

  it('redacts the security token and the signature from an error_msg that echoes the request headers', async () => {
    server.script(({ res, headers }) =>
      answer(res, 400, {
        error_code: '111400070',
        error_msg: `echo: ${headers.authorization ?? ''} / ${String(headers['x-security-token'] ?? '')}`,
      }),
    );
    const outcome = await client({
      credentials: new Credentials(AK, SK, 'echoed-token-value'),
    }).deleteBackgroundTask(REF);
    const sent = server.requests[0]!.headers.authorization!;
    const signature = sent.slice(sent.indexOf('Signature=') + 'Signature='.length);
    expect(outcome.errorMsg).toContain(`Signature=[redacted] / [redacted]`);
    expect(outcome.errorMsg).not.toContain(signature);
    expect(outcome.errorMsg).not.toContain('echoed-token-value');
  });

  it('keeps at most 512 characters of error_msg', async () => {
    server.script(({ res }) => answer(res, 500, { error_code: '111500000', error_msg: 'e'.repeat(40_000) }));
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome.errorCode).toBe('111500000');
    expect(outcome.errorMsg).toHaveLength(512);
  });

  it('reads only the first maxErrorBodyBytes of a 10 MB error body, drops the connection and carries on', async () => {
    const size = 10 * 1024 * 1024;
    let finished: Promise<boolean> | undefined;
    server.script(({ res }) => {
      finished = new Promise((resolve) => res.on('close', () => resolve(res.writableFinished)));
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': size });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = (): void => {
        while (sent < size && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      res.write('{"error_code":"111400063","error_msg":"');
      pump();
    });
    const c = client();
    const outcome = await c.deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ status: 400, errorCode: undefined, verdict: { action: 'rejected' } });
    expect(await finished).toBe(false);

    server.script(({ res }) => answer(res, 204));
    expect((await c.deleteBackgroundTask(REF)).status).toBe(204);
  });

  it('reports a reset connection as a network error of kind reset', async () => {
    server.script(({ socket }) => socket.destroy());
    const outcome = await client().deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ networkError: 'reset', verdict: { action: 'retry' } });
    expect(outcome.status).toBeUndefined();
  });

  it('reports a refused connection as refused', async () => {
    const port = await closedPort();
    const outcome = await client({ endpoint: `http://127.0.0.1:${port}` }).deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({
      networkError: 'refused',
      verdict: { action: 'retry', reason: 'network_refused' },
    });
  });

  it('times out when the server never answers', async () => {
    const outcome = await client({ headersTimeoutMs: 150 }).deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ networkError: 'timeout', verdict: { action: 'retry' } });
    expect(server.requests).toHaveLength(1);
  });

  it('ends a DELETE whose answer trickles one byte a second at the overall deadline, as a timeout', async () => {
    const drip = dripForever();
    server.script(drip.script);
    // The body timeout is per chunk: a byte a second never trips it, only the overall deadline can.
    const outcome = await client({ bodyTimeoutMs: 5_000, requestTimeoutMs: 1_500 }).deleteBackgroundTask(REF);
    expect(outcome).toMatchObject({ networkError: 'timeout', verdict: { action: 'retry' } });
    expect(drip.bytesSent()).toBeGreaterThan(0);
    drip.stop();
  });

  it('ends a list page whose body trickles one byte a second at the overall deadline', async () => {
    const drip = dripForever();
    server.script(drip.script);
    const listing = client({ bodyTimeoutMs: 5_000, requestTimeoutMs: 1_500, pageRetries: 0 }).listInstances(
      PROJECT,
    );
    const error = await collect(listing).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DcsRequestError);
    expect((error as DcsRequestError).code).toBe('DCS_UNAVAILABLE');
    expect((error as DcsRequestError).outcome.networkError).toBe('timeout');
    drip.stop();
  });

  it("aborts an in-flight request when the caller's signal fires", async () => {
    const controller = new AbortController();
    const pending = client().deleteBackgroundTask(REF, { signal: controller.signal });
    await server.nextRequest();
    controller.abort();
    const outcome = await pending;
    expect(outcome).toMatchObject({ networkError: 'aborted', verdict: { action: 'retry' } });
    expect(outcome.status).toBeUndefined();
  });

  it('sends nothing when the signal has already fired', async () => {
    const outcome = await client().deleteBackgroundTask(REF, { signal: AbortSignal.abort() });
    expect(outcome.networkError).toBe('aborted');
    expect(server.requests).toHaveLength(0);
  });

  it('logs one debug record per call without any secret', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug' }, destination);
    server.script(({ res }) => answer(res, 404, { error_code: '111404022' }, { 'x-request-id': 'rid-log' }));
    const credentials = new Credentials(AK, SK, 'token-in-logs?');
    await client({ logger, credentials }).deleteBackgroundTask(REF);

    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({
      level: 20,
      method: 'DELETE',
      path: `/v2/${PROJECT}/instances/${INSTANCE}/tasks/${TASK}`,
      status: 404,
      error_code: '111404022',
      request_id: 'rid-log',
    });
    expect(typeof record.duration_ms).toBe('number');
    expect(lines[0]).not.toMatch(/SDK-HMAC|token-in-logs|example-secret/);
  });
});

describe('DcsClient list calls', () => {
  const task = (i: number) => ({
    id: `task${i}`.padEnd(32, '0'),
    name: 'EXTEND',
    status: 'SUCCESS',
    user_name: 'ops',
    params: '{"old_capacity":"2"}',
    created_at: `2026-02-0${(i % 9) + 1}T07:38:42.503Z`,
    updated_at: '2026-02-10T00:00:00Z',
    enable_show: true,
  });

  function pageScript(total: number, makeItem: (i: number) => unknown, listName: string, countName: string) {
    return ({ url, res }: ReceivedRequest) => {
      const params = new URL(url, 'http://x').searchParams;
      const offset = Number(params.get('offset'));
      const limit = Number(params.get('limit'));
      const items = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) =>
        makeItem(offset + k),
      );
      const count = countName === 'task_count' ? String(total) : total;
      answer(res, 200, { [countName]: count, [listName]: items });
    };
  }

  it('walks every page of tasks with the window, each page signed', async () => {
    server.script(pageScript(5, task, 'tasks', 'task_count'));
    const tasks = await collect(
      client().listBackgroundTasks(
        { projectId: PROJECT, instanceId: INSTANCE },
        {
          startTime: new Date('2026-02-01T00:00:00Z'),
          endTime: new Date('2026-02-28T23:59:59Z'),
          pageSize: 2,
        },
      ),
    );

    expect(tasks.map((t) => t.id)).toEqual([0, 1, 2, 3, 4].map((i) => `task${i}`.padEnd(32, '0')));
    expect(tasks[0]).toEqual({
      id: 'task0'.padEnd(32, '0'),
      name: 'EXTEND',
      status: 'SUCCESS',
      createdAt: new Date('2026-02-01T07:38:42.503Z'),
      updatedAt: new Date('2026-02-10T00:00:00Z'),
      projectId: PROJECT,
      instanceId: INSTANCE,
      userName: 'ops',
      params: '{"old_capacity":"2"}',
    });
    const base = `/v2/${PROJECT}/instances/${INSTANCE}/tasks?end_time=20260228235959`;
    expect(server.requests.map((r) => r.url)).toEqual([
      `${base}&limit=2&offset=0&start_time=20260201000000`,
      `${base}&limit=2&offset=2&start_time=20260201000000`,
      `${base}&limit=2&offset=4&start_time=20260201000000`,
    ]);
    for (const req of server.requests) expect(verifySignature(req, new Credentials(AK, SK))).toBe(true);
  });

  it('stops when the offset reaches task_count, without asking for an empty page', async () => {
    server.script(pageScript(4, task, 'tasks', 'task_count'));
    const tasks = await collect(
      client().listBackgroundTasks({ projectId: PROJECT, instanceId: INSTANCE }, { pageSize: 2 }),
    );
    expect(tasks).toHaveLength(4);
    expect(server.requests).toHaveLength(2);
  });

  it('walks every page of instances', async () => {
    const instance = (i: number) => ({
      instance_id: `0000000${i}-cebf-4473-95c4-d1b573c16e79`,
      name: `redis-${i}`,
      status: 'RUNNING',
      engine: 'Redis',
      created_at: '2025-01-01T00:00:00.000Z',
    });
    server.script(pageScript(3, instance, 'instances', 'instance_num'));
    const instances = await collect(client().listInstances(PROJECT, { pageSize: 2 }));

    expect(instances.map((i) => i.name)).toEqual(['redis-0', 'redis-1', 'redis-2']);
    expect(instances[0]).toMatchObject({ projectId: PROJECT, engine: 'Redis', status: 'RUNNING' });
    expect(server.requests.map((r) => r.url)).toEqual([
      `/v2/${PROJECT}/instances?limit=2&offset=0`,
      `/v2/${PROJECT}/instances?limit=2&offset=2`,
    ]);
  });

  it('throws DcsRequestError carrying the outcome when a page fails', async () => {
    server.script(({ res }) =>
      answer(
        res,
        401,
        { error_code: 'APIGW.0301', error_msg: 'bad signature' },
        { 'x-request-id': 'rid-401' },
      ),
    );
    const err: unknown = await collect(client().listInstances(PROJECT)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DcsRequestError);
    const error = err as DcsRequestError;
    expect(error.code).toBe('DCS_AUTH_FAILED');
    expect(error.outcome).toMatchObject({ status: 401, errorCode: 'APIGW.0301', requestId: 'rid-401' });
    expect(error.message).toContain('HTTP 401 APIGW.0301');
    expect(error.message).toContain('rid-401');
    expect(error.message).not.toContain(SK);
  });

  it('throws DCS_FORBIDDEN on a 403', async () => {
    server.script(({ res }) => answer(res, 403, { error_code: '111403003' }));
    const err: unknown = await collect(
      client().listBackgroundTasks({ projectId: PROJECT, instanceId: INSTANCE }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DCS_FORBIDDEN', outcome: { status: 403 } });
  });

  it('throws DcsRequestError with the network outcome when the connection resets', async () => {
    server.script(({ socket }) => socket.destroy());
    const err: unknown = await collect(client().listInstances(PROJECT)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DCS_UNAVAILABLE', outcome: { networkError: 'reset' } });
  });

  it.each([
    ['not JSON', 'Service is up'],
    ['a malformed task', { task_count: '1', tasks: [{ id: 'x', status: 'SUCCESS' }] }],
    ['a task_count that is not a number', { task_count: 'many', tasks: [] }],
  ])('throws DCS_PROTOCOL for a success body that is %s', async (_what, body) => {
    server.script(({ res }) => answer(res, 200, body));
    const err: unknown = await collect(
      client().listBackgroundTasks({ projectId: PROJECT, instanceId: INSTANCE }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DcsRequestError);
    expect(err).toMatchObject({ code: 'DCS_PROTOCOL', outcome: { status: 200 } });
  });

  it('rejects invalid ids and options at the call, before anything is sent', () => {
    const c = client();
    expect(() => c.listBackgroundTasks({ projectId: PROJECT, instanceId: 'a b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ID', field: 'instance_id' }),
    );
    expect(() => c.listInstances('')).toThrow(
      expect.objectContaining({ code: 'INVALID_ID', field: 'project_id' }),
    );
    expect(() => c.listInstances(PROJECT, { pageSize: 1001 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', field: 'pageSize' }),
    );
    expect(() =>
      c.listBackgroundTasks(
        { projectId: PROJECT, instanceId: INSTANCE },
        { startTime: new Date('2026-02-02T00:00:00Z'), endTime: new Date('2026-02-01T00:00:00Z') },
      ),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(server.requests).toHaveLength(0);
  });
});

describe('DcsClient.probe', () => {
  it('asks for one instance and reports ok on a 2xx', async () => {
    server.script(({ res }) => answer(res, 200, { instance_num: 0, instances: [] }));
    const outcome = await client().probe(PROJECT);
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(server.requests[0]!.url).toBe(`/v2/${PROJECT}/instances?limit=1&offset=0`);
    expect(verifySignature(server.requests[0]!, new Credentials(AK, SK))).toBe(true);
  });

  it('reports not ok with the verdict on a 401', async () => {
    server.script(({ res }) => answer(res, 401, { error_code: '111401002' }));
    const outcome = await client().probe(PROJECT);
    expect(outcome).toMatchObject({ ok: false, status: 401, verdict: { action: 'auth_failed' } });
  });

  it('rejects an invalid project id and sends nothing', async () => {
    await expect(client().probe('../x')).rejects.toMatchObject({ code: 'INVALID_ID', field: 'project_id' });
    expect(server.requests).toHaveLength(0);
  });
});
