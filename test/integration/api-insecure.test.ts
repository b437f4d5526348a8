/**
 * `serve --insecure-no-auth` against DNS rebinding: without a token the loopback address is the only
 * protection, so a request naming another host, or sent by a browser page (an `Origin` header), is
 * refused on every route; local tools that name the loopback address get through.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../../src/api/create-api.js';
import { isLoopbackHostHeader } from '../../src/api/api-auth.js';
import { createDeadLetters } from '../../src/queue/dead-letters.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';

let h: Harness;
let connection: RedisClient;
let api: FastifyInstance;
let port: number;

beforeAll(async () => {
  h = await createHarness('api-insecure');
  connection = createRedisConnection(REDIS_URL, 'api');
  await new Promise((resolve) => connection.once('ready', resolve));
  api = createApi({
    connection,
    prefix: h.prefix,
    producer: h.producer,
    deadLetters: createDeadLetters({ connection, prefix: h.prefix }),
    logger: captureLogger('info').logger,
    auth: { insecureNoAuth: true },
    bullBoard: { writable: false },
  });
  port = Number(new URL(await api.listen({ host: '127.0.0.1', port: 0 })).port);
});

afterAll(async () => {
  await api?.close();
  connection?.disconnect();
  await h?.close();
});

/** A GET over a real socket to 127.0.0.1 with these headers; status and body. */
function get(path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const job = '/v1/deletions/del_p1_i1_t1';

describe('--insecure-no-auth and DNS rebinding', () => {
  it('refuses a rebound Host name on every route with 403 FORBIDDEN', async () => {
    for (const path of [job, '/v1/dead-letters', '/healthz', '/admin/queues']) {
      const res = await get(path, { host: 'rebind.attacker.example' });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      expect(res.body.error.message).toMatch(/Host header must be a loopback address/);
    }
    expect((await get(job, { host: `rebind.attacker.example:${port}` })).status).toBe(403);
    expect((await get(job, { host: `127.0.0.1.attacker.example:${port}` })).status).toBe(403);
  });

  it('refuses any request carrying an Origin header, even from a loopback origin', async () => {
    for (const origin of ['http://rebind.attacker.example', `http://127.0.0.1:${port}`, 'null']) {
      const res = await get(job, { host: `127.0.0.1:${port}`, origin });
      expect(res.status, origin).toBe(403);
      expect(res.body.error.message).toMatch(/Origin/);
    }
  });

  it('answers loopback literals, with or without a port', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      `localhost:${port}`,
      '[::1]',
      `[::1]:${port}`,
    ]) {
      const res = await get('/healthz', { host });
      expect(res.status, host).toBe(200);
    }
    expect((await get(job, { host: 'localhost' })).status).toBe(404);
  });

  it('recognises only loopback literals as loopback Host headers', () => {
    expect(isLoopbackHostHeader('LOCALHOST:8080')).toBe(true);
    for (const bad of [
      undefined,
      '',
      '0.0.0.0',
      '10.0.0.1',
      '[::2]',
      '[::1',
      'localhost:',
      'localhost:8080:1',
      '::1',
    ]) {
      expect(isLoopbackHostHeader(bad), String(bad)).toBe(false);
    }
  });
});
