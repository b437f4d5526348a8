/**
 * The bounds of POST /v1/purges against the emulator over real sockets: the answer's plan is capped,
 * one listing runs at a time, a listing stops when its client goes away or its deadline passes, and
 * a silent connection is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import type { ApiDeps } from '../../src/api/create-api.js';
import { parsePlanFile } from '../../src/purge/plan-file.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { createAppApi } from '../support/app-api.js';

const TOKEN = 'test-token-0123456789abcdef';
const INSTANCES = 30;
const PLAN_LIMIT = 3;

let h: Harness;
let apiApp: App;
let dcs: DcsClient;
const apis: FastifyInstance[] = [];
const logs = captureLogger('info');
/** One instance with 5 finished tasks, and INSTANCES - 1 with one each. */
let bigInstance: string;

beforeAll(async () => {
  h = await createHarness('api-purge-limits', { seed: { instances: 0, tasksPerInstance: 0 } });
  for (let i = 0; i < INSTANCES; i++) {
    const { instance_id } = h.emulator.addInstance(h.projectId);
    h.emulator.addTasks(
      instance_id,
      Array.from({ length: i === 0 ? 5 : 1 }, () => ({ status: 'SUCCESS' as const })),
    );
    if (i === 0) bigInstance = instance_id;
  }
  dcs = createDcsClient({ endpoint: h.emulator.url, credentials: h.credentials });
  apiApp = createApp(configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: h.prefix }), {
    role: 'api',
    logger: logs.logger,
  });
  await new Promise((resolve) => apiApp.connection.once('ready', resolve));
});

afterAll(async () => {
  for (const api of apis) await api.close();
  await apiApp?.close();
  await dcs?.close();
  await h?.close();
});

/** A listening API with these purge limits and timeouts; its base URL. */
async function startApi(extra: Pick<ApiDeps, 'timeouts'> & { deadlineMs?: number } = {}): Promise<URL> {
  const api = createAppApi(apiApp, {
    logger: logs.logger,
    auth: { token: TOKEN },
    bullBoard: false,
    purges: {
      lister: () => dcs,
      defaultProjectId: h.projectId,
      limits: { deadlineMs: extra.deadlineMs ?? 60_000, planLimit: PLAN_LIMIT },
    },
    ...(extra.timeouts ? { timeouts: extra.timeouts } : {}),
  });
  apis.push(api);
  return new URL(await api.listen({ host: '127.0.0.1', port: 0 }));
}

/** List-task calls the emulator has answered so far. */
const listCalls = (): number =>
  Object.values(h.emulator.stats().requests.byRoute.listTasks ?? {}).reduce((a, b) => a + b, 0);

/** Sends a purge over a real socket; `response` settles with status and body, `abort` hangs up. */
function sendPurge(
  base: URL,
  body: object,
): { response: Promise<{ status: number; body: any }>; abort(): void } {
  const payload = JSON.stringify(body);
  const req = httpRequest(new URL('/v1/purges', base), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
  });
  req.end(payload);
  return { response, abort: () => req.destroy() };
}

/** Every instance, one at a time, each list call slowed down: a listing that takes seconds. */
const SLOW_PURGE = { all_instances: true, concurrency: 1, max: 1000 };
const slowLists = (): void => h.emulator.setFaults({ latencyMs: 150, routes: ['listTasks'] });

describe('POST /v1/purges bounds', () => {
  it(`lists at most ${PLAN_LIMIT} tasks in a dry run's answer, counts them all, and says how to get the rest`, async () => {
    h.emulator.setFaults({});
    const base = await startApi();
    const { status, body } = await sendPurge(base, { instances: [bigInstance] }).response;
    expect(status).toBe(200);
    expect(body.plan.selected).toHaveLength(PLAN_LIMIT);
    expect(body.plan.counts).toMatchObject({ matched: 5, selected: 5 });
    expect(body.truncated).toMatchObject({ listed: PLAN_LIMIT, omitted: 2 });
    expect(body.truncated.message).toMatch(/2 more.*purge --dry-run --out/);
    // Applying that plan would enqueue a part: `purge apply` refuses it.
    expect(() => parsePlanFile(JSON.stringify(body.plan))).toThrow(/truncated plan/);
  });

  it('answers 429 PURGE_BUSY while a listing runs, and takes purges again once it ended', async () => {
    slowLists();
    const base = await startApi();
    const first = sendPurge(base, SLOW_PURGE);
    await waitFor(() => listCalls() > 0, 'the first listing to start');
    const second = await sendPurge(base, { instances: [bigInstance] }).response;
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('PURGE_BUSY');
    expect((await first.response).status).toBe(200);
    h.emulator.setFaults({});
    expect((await sendPurge(base, { instances: [bigInstance] }).response).status).toBe(200);
  }, 60_000);

  it('stops listing when the client goes away: the emulator sees no further list call', async () => {
    slowLists();
    const base = await startApi();
    const before = listCalls();
    const purge = sendPurge(base, SLOW_PURGE);
    purge.response.catch(() => undefined);
    await waitFor(() => listCalls() >= before + 2, 'the listing to be under way');
    purge.abort();
    await waitFor(
      () => logs.records.some((r) => r.msg === 'purge listing stopped: the client went away'),
      'the server to notice the client went away',
    );
    const atStop = listCalls();
    expect(atStop - before).toBeLessThan(INSTANCES);
    // The gate is free again; a one-instance purge makes one more list call. The emulator counts a
    // call when it answers, so the one that was in flight (aborted by the client) may count too.
    h.emulator.setFaults({});
    expect((await sendPurge(base, { instances: [bigInstance] }).response).status).toBe(200);
    expect(listCalls()).toBeLessThanOrEqual(atStop + 2);
    expect(listCalls() - before).toBeLessThan(INSTANCES);
  }, 60_000);

  it('stops listing at the deadline with 504 PURGE_TIMEOUT', async () => {
    slowLists();
    const base = await startApi({ deadlineMs: 1_000 });
    const before = listCalls();
    const { status, body } = await sendPurge(base, SLOW_PURGE).response;
    expect(status).toBe(504);
    expect(body.error.code).toBe('PURGE_TIMEOUT');
    expect(body.error.message).toMatch(/API_PURGE_DEADLINE_MS/);
    expect(listCalls() - before).toBeLessThan(INSTANCES);
    h.emulator.setFaults({});
  }, 60_000);

  it('closes a connection that stays silent past the connection timeout', async () => {
    const base = await startApi({ timeouts: { requestMs: 1_000, connectionMs: 1_000 } });
    const socket = connect(Number(base.port), base.hostname);
    // Half a request line, then nothing: the server must not keep the socket for ever.
    socket.write('POST /v1/purges HTTP/1.1\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(socket.destroyed).toBe(true);
  }, 60_000);
});
