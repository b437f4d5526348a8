/**
 * API access (issue 7): no route is reachable without the token but the four open ones (health,
 * readiness, metrics, the OpenAPI document); the token is compared in constant time on digests;
 * bodies are capped, and an unauthenticated client cannot make the server read one; error answers
 * carry no stack trace or internal path.
 */
import { connect } from 'node:net';
import * as crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { BODY_LIMIT_BYTES, createApi } from '../../src/api/create-api.js';
import { createDeadLetters } from '../../src/queue/dead-letters.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import type { Producer } from '../../src/queue/producer.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const TOKEN = 'api-access-token-5f1e2d3c4b5a69788796';
const OPEN_ROUTES = ['/healthz', '/readyz', '/metrics', '/openapi.json'];
const LEAK = /\bat .+:\d+|\/work\/|node_modules|\.ts\b|\.js:\d|src\//;

/** The top-level routes of the tree Fastify prints (`├── /healthz (GET, HEAD)`), unnested. */
function parseTopLevelRoutes(tree: string): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^[├└]── (\S+) \(([A-Z, ]+)\)/.exec(line);
    if (m) for (const method of m[2]!.split(', ')) routes.push({ method, url: m[1]! });
  }
  return routes;
}

describe('API access', () => {
  let h: Harness;
  let apiConnection: RedisClient;
  let api: FastifyInstance;
  const routes = new Map<string, { method: string; url: string }>();
  const logs = captureLogger('trace');

  function build(producer: Producer = h.producer): FastifyInstance {
    return createApi({
      connection: apiConnection,
      prefix: h.prefix,
      producer,
      deadLetters: createDeadLetters({ connection: apiConnection, prefix: h.prefix }),
      logger: logs.logger,
      auth: { token: TOKEN },
      bullBoard: { writable: false },
    });
  }

  beforeAll(async () => {
    h = await createHarness('api-access');
    apiConnection = createRedisConnection(REDIS_URL, 'api');
    api = build();
    // Routes registered in plugins (all of /v1 and /admin) pass this hook; the top level is read from the tree.
    api.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) routes.set(`${method} ${r.url}`, { method, url: r.url });
    });
    await api.ready();
    for (const r of parseTopLevelRoutes(api.printRoutes({ commonPrefix: false })))
      routes.set(`${r.method} ${r.url}`, r);
    await waitFor(() => apiConnection.status === 'ready', 'the API connection');
  });

  afterAll(async () => {
    await api?.close();
    apiConnection?.disconnect();
    await h?.close();
  });

  it('answers 401 on every route but the open four, whatever the method, without a token or with a wrong one', async () => {
    expect(routes.size).toBeGreaterThan(40);
    const reachable: string[] = [];
    for (const { method, url } of routes.values()) {
      const path = url.replace(/:[A-Za-z]+/g, 'x1').replace(/\*/g, 'x');
      const open = OPEN_ROUTES.includes(path) && (method === 'GET' || method === 'HEAD');
      const withBody = ['POST', 'PUT', 'PATCH'].includes(method);
      for (const authorization of [
        undefined,
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${Buffer.from(`admin:${TOKEN}x`).toString('base64')}`,
        TOKEN,
      ]) {
        const response = await api.inject({
          method: method as 'GET',
          url: path,
          headers: {
            ...(authorization ? { authorization } : {}),
            ...(withBody ? { 'content-type': 'application/json' } : {}),
          },
          ...(withBody ? { payload: '{}' } : {}),
        });
        if (open) expect(response.statusCode, `${method} ${path}`).not.toBe(401);
        else if (response.statusCode !== 401)
          reachable.push(`${method} ${path} -> ${response.statusCode} (${authorization ?? 'no token'})`);
        if (response.statusCode === 401 && method !== 'HEAD')
          expect(response.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      }
    }
    expect(reachable).toEqual([]);
  });

  it('compares tokens as SHA-256 digests with timingSafeEqual, so neither content nor length shows in timing', async () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    for (const presented of [
      'short',
      TOKEN.slice(0, -1),
      `${TOKEN}-and-much-longer-than-the-real-one`,
      TOKEN,
    ]) {
      spy.mockClear();
      await api.inject({
        method: 'GET',
        url: '/v1/dead-letters',
        headers: { authorization: `Bearer ${presented}` },
      });
      expect(spy, presented).toHaveBeenCalledTimes(1);
      const [a, b] = spy.mock.calls[0]! as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([32, 32]);
    }
  });

  it(`caps bodies at ${BODY_LIMIT_BYTES} bytes with 413, and answers an unauthenticated body at once without reading it`, async () => {
    const big = JSON.stringify({ tasks: [], reason: 'x'.repeat(BODY_LIMIT_BYTES) });
    const tooBig = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: big,
    });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });

    // A real socket: headers announcing 100 MB, no body sent. The 401 must come back all the same.
    const server = build();
    await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = server.server.address() as { port: number };
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /v1/deletions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{"tasks":',
          );
        });
        let text = '';
        socket.setTimeout(5_000, () => reject(new Error(`no answer within 5 s: ${text}`)));
        socket.on('data', (d: Buffer) => {
          text += d.toString('utf8');
          if (text.includes('\r\n\r\n')) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 401/);
    } finally {
      await server.close();
    }
  });

  it('answers an internal failure as INTERNAL without its message, stack or file paths, and logs it whole', async () => {
    const failing = Object.create(h.producer) as Producer;
    failing.enqueueMany = () =>
      Promise.reject(new Error(`ENOENT: open '/work/main/src/secret/config.ts' at line 12`));
    const server = build(failing);
    try {
      const response = await server.inject({
        method: 'POST',
        url: '/v1/deletions',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ tasks: [{ project_id: 'p', instance_id: 'i', task_id: 't' }] }),
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(response.body).not.toMatch(LEAK);
      expect(logs.text()).toContain('/work/main/src/secret/config.ts');
    } finally {
      await server.close();
    }
  });

  it('keeps stack traces and paths out of every 4xx and 5xx it gives to odd requests', async () => {
    const odd: (InjectOptions & { url: string })[] = [
      { method: 'GET', url: '/v1/nope/../../etc/passwd', headers: { authorization: `Bearer ${TOKEN}` } },
      {
        method: 'POST',
        url: '/v1/deletions',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: '{"tasks": [',
      },
      {
        method: 'POST',
        url: '/v1/deletions',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-16' },
        payload: '{}',
      },
      { method: 'DELETE', url: '/v1/deletions', headers: { authorization: `Bearer ${TOKEN}` } },
      {
        method: 'GET',
        url: `/v1/deletions/${'x'.repeat(5_000)}`,
        headers: { authorization: `Bearer ${TOKEN}` },
      },
      { method: 'GET', url: '/metrics?%zz' },
    ];
    for (const request of odd) {
      const response = await api.inject(request);
      expect(response.body, `${String(request.method)} ${request.url}`).not.toMatch(LEAK);
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });
});
