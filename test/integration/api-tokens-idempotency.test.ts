/**
 * Scoped tokens (CLEANUP_API_TOKENS_FILE), Idempotency-Key, traceparent and the CloudEvents intake,
 * against a real Redis (own prefix), a real tokens file, and for the trace a real worker deleting
 * from the emulator with signed requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';
import { createAppApi } from '../support/app-api.js';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import { tokenDigest } from '../../src/api/token-file.js';
import { idempotencyRedisKey } from '../../src/api/idempotency.js';
import { DELETION_REQUESTED_EVENT } from '../../src/api/event-routes.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'reader-token-0123456789abcdef';
const ENQUEUER = 'enqueuer-token-0123456789abcdef';
const PURGER = 'purger-token-0123456789abcdef';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let h: Harness;
let apiApp: App;
let api: FastifyInstance;
let dcs: DcsClient;
let dir: string;
let tokensFile: string;
const logs = captureLogger('info');

function writeTokens(entries: { label: string; token: string; scopes: string[] }[]): void {
  const yaml = ['tokens:'];
  for (const e of entries) {
    yaml.push(
      `  - label: ${e.label}`,
      `    sha256: ${tokenDigest(e.token)}`,
      `    scopes: [${e.scopes.join(', ')}]`,
    );
  }
  // Replaced atomically, as a Kubernetes secret or a config tool does.
  writeFileSync(`${tokensFile}.new`, `${yaml.join('\n')}\n`);
  renameSync(`${tokensFile}.new`, tokensFile);
}

const INITIAL = [
  { label: 'dashboards', token: READER, scopes: ['read'] },
  { label: 'ci', token: ENQUEUER, scopes: ['enqueue'] },
  { label: 'ops', token: PURGER, scopes: ['purge', 'read'] },
];

beforeAll(async () => {
  // Debug: the DCS client's own record of each request is read by the traceparent test.
  h = await createHarness(
    'api-tokens',
    { seed: { instances: 1, tasksPerInstance: 0 } },
    { logLevel: 'debug' },
  );
  dcs = createDcsClient({ endpoint: h.emulator.url, credentials: h.credentials });
  dir = mkdtempSync(join(tmpdir(), 'dcs-tokens-'));
  tokensFile = join(dir, 'tokens.yaml');
  writeTokens(INITIAL);
  const config = configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: h.prefix });
  apiApp = createApp(config, { role: 'api', logger: logs.logger });
  await new Promise((resolve) => apiApp.connection.once('ready', resolve));
  api = createAppApi(apiApp, {
    logger: logs.logger,
    auth: { token: ADMIN, tokensFile },
    purges: { lister: () => dcs, defaultProjectId: h.projectId },
    bullBoard: { writable: false },
  });
  await api.ready();
});

afterAll(async () => {
  await api?.close();
  await apiApp?.close();
  await dcs?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const tasks = (tag: string, n = 3) =>
  Array.from({ length: n }, (_, i) => ({ project_id: 'p1', instance_id: `i-${tag}`, task_id: `t${i}` }));

const jobCount = async () => {
  const counts = await h.queue.getJobCounts(
    'wait',
    'active',
    'delayed',
    'completed',
    'failed',
    'prioritized',
  );
  return Object.values(counts).reduce((a, b) => a + b, 0);
};

describe('scoped tokens', () => {
  it('a read token can GET but cannot enqueue (403 MISSING_SCOPE), and its label is logged', async () => {
    const list = await api.inject({ method: 'GET', url: '/v1/dead-letters', headers: bearer(READER) });
    expect(list.statusCode).toBe(200);
    const before = await jobCount();
    const post = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: bearer(READER),
      payload: { tasks: tasks('read') },
    });
    expect(post.statusCode).toBe(403);
    expect(post.json().error.code).toBe('MISSING_SCOPE');
    expect(post.json().error.message).toContain('enqueue');
    expect(await jobCount()).toBe(before);
    const record = logs.records.find((r) => r.msg === 'api request' && r.status === 403);
    expect(record).toMatchObject({ token_label: 'dashboards', route: '/v1/deletions' });
    expect(logs.text()).not.toContain(READER);
  });

  it('each scope opens its routes only; CLEANUP_API_TOKEN has them all; unknown tokens are 401', async () => {
    const ci = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: bearer(ENQUEUER),
      payload: { tasks: tasks('ci', 1) },
    });
    expect(ci.statusCode).toBe(202);
    const ciRead = await api.inject({ method: 'GET', url: '/v1/dead-letters', headers: bearer(ENQUEUER) });
    expect(ciRead.statusCode).toBe(403);
    const purge = await api.inject({
      method: 'POST',
      url: '/v1/purges',
      headers: bearer(ENQUEUER),
      payload: { all_instances: true },
    });
    expect(purge.json().error.code).toBe('MISSING_SCOPE');
    const replay = await api.inject({
      method: 'POST',
      url: '/v1/dead-letters/dl-nope/replay',
      headers: bearer(PURGER),
    });
    expect(replay.statusCode).toBe(403);
    const admin = await api.inject({
      method: 'POST',
      url: '/v1/dead-letters/dl-nope/replay',
      headers: bearer(ADMIN),
    });
    expect(admin.statusCode).toBe(404);
    const stranger = await api.inject({
      method: 'GET',
      url: '/v1/dead-letters',
      headers: bearer('x'.repeat(32)),
    });
    expect(stranger.statusCode).toBe(401);
  });

  it('Bull Board needs the admin scope, as Bearer or as the Basic password', async () => {
    const basic = (token: string) => ({
      authorization: `Basic ${Buffer.from(`me:${token}`).toString('base64')}`,
    });
    const reader = await api.inject({ method: 'GET', url: '/admin/queues', headers: basic(READER) });
    expect(reader.statusCode).toBe(403);
    expect(reader.json().error.code).toBe('MISSING_SCOPE');
    const admin = await api.inject({ method: 'GET', url: '/admin/queues', headers: basic(ADMIN) });
    expect(admin.statusCode).toBe(200);
  });

  it('follows changes of the file, and keeps the old tokens when a new file is bad', async () => {
    writeTokens([
      ...INITIAL.slice(0, 2),
      { label: 'ops', token: PURGER, scopes: ['purge', 'read', 'admin'] },
    ]);
    await waitFor(async () => {
      const res = await api.inject({
        method: 'POST',
        url: '/v1/dead-letters/dl-nope/replay',
        headers: bearer(PURGER),
      });
      return res.statusCode === 404;
    }, 'the new scope of ops');
    writeFileSync(
      `${tokensFile}.new`,
      'tokens:\n  - label: broken\n    sha256: not-a-digest\n    scopes: [everything]\n',
    );
    renameSync(`${tokensFile}.new`, tokensFile);
    const refused = await waitFor(
      () => logs.records.find((r) => r.msg?.startsWith('api tokens file refused')),
      'the refusal of the bad file',
    );
    expect(refused.err).toContain('tokens[0].sha256');
    expect(refused.err).toContain('tokens[0].scopes[0]');
    const still = await api.inject({ method: 'GET', url: '/v1/dead-letters', headers: bearer(READER) });
    expect(still.statusCode).toBe(200);
  });
});

describe('Idempotency-Key', () => {
  it('the same key and body answer the first answer and start nothing; another body is 422', async () => {
    const headers = { ...bearer(ENQUEUER), 'idempotency-key': 'order-42' };
    const before = await jobCount();
    const first = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers,
      payload: { tasks: tasks('idem') },
    });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ enqueued: 3, duplicates: 0 });
    expect(await jobCount()).toBe(before + 3);
    const again = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers,
      payload: { tasks: tasks('idem') },
    });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // A second run would have found three duplicates: this is the first answer, replayed.
    expect(again.json()).toEqual(first.json());
    expect(await jobCount()).toBe(before + 3);
    const other = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers,
      payload: { tasks: tasks('idem-other') },
    });
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await jobCount()).toBe(before + 3);
    // Stored under a digest, scoped to the token's label: never the key itself.
    const keys = await h.connection.keys(`${h.prefix}:idempotency:*`);
    expect(keys.some((k) => k.includes('order-42'))).toBe(false);
    expect(keys).toContain(idempotencyRedisKey(h.prefix, 'ci', 'POST /v1/deletions', 'order-42'));
    // Another token's same key is another request.
    const admin = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { ...bearer(ADMIN), 'idempotency-key': 'order-42' },
      payload: { tasks: tasks('idem-other') },
    });
    expect(admin.statusCode).toBe(202);
  });

  it('two requests at once with one key: one runs, the other does not', async () => {
    const headers = { ...bearer(ENQUEUER), 'idempotency-key': 'concurrent-1' };
    const payload = { tasks: tasks('concurrent', 50) };
    const answers = await Promise.all(
      [1, 2, 3].map(() => api.inject({ method: 'POST', url: '/v1/deletions', headers, payload })),
    );
    const ran = answers.filter((a) => a.statusCode === 202 && a.headers['idempotent-replayed'] === undefined);
    expect(ran).toHaveLength(1);
    for (const a of answers) {
      expect([202, 409]).toContain(a.statusCode);
      if (a.statusCode === 409) expect(a.json().error.code).toBe('IDEMPOTENCY_KEY_IN_USE');
      // Nobody saw duplicates: the batch was enqueued once.
      else expect(a.json()).toMatchObject({ enqueued: 50, duplicates: 0 });
    }
  });

  it('a purge repeated with its key answers the same run and starts nothing more', async () => {
    h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }, { status: 'SUCCESS' }]);
    const headers = { ...bearer(PURGER), 'idempotency-key': 'nightly-2026-12-06' };
    const payload = { all_instances: true, dry_run: false };
    const apiPurges = async () => {
      const res = await api.inject({ method: 'GET', url: '/v1/runs', headers: bearer(READER) });
      return (res.json().runs as { kind: string; started_by: string }[]).filter(
        (r) => r.kind === 'api-purge',
      );
    };
    const before = (await apiPurges()).length;
    const first = await api.inject({ method: 'POST', url: '/v1/purges', headers, payload });
    expect(first.statusCode).toBe(202);
    const again = await api.inject({ method: 'POST', url: '/v1/purges', headers, payload });
    expect(again.statusCode).toBe(202);
    expect(again.json().run_id).toBe(first.json().run_id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const runs = await apiPurges();
    expect(runs).toHaveLength(before + 1);
    // The run records the label of the token that started it.
    expect(runs[0]).toMatchObject({ started_by: 'api ops' });
  });

  it('a malformed key is 400 naming the header', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { ...bearer(ENQUEUER), 'idempotency-key': 'x'.repeat(256) },
      payload: { tasks: tasks('bad-key', 1) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields).toEqual([expect.objectContaining({ field: 'Idempotency-Key' })]);
  });
});

describe('CloudEvents intake', () => {
  const data = (tag: string) => ({ tasks: tasks(tag, 2), reason: 'event' });

  it('structured mode enqueues like /v1/deletions, and a redelivered event starts nothing', async () => {
    const event = {
      specversion: '1.0',
      id: 'e-1',
      source: '/billing',
      type: DELETION_REQUESTED_EVENT,
      data: data('ce-s'),
    };
    const send = () =>
      api.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...bearer(ENQUEUER), 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify(event),
      });
    const first = await send();
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ enqueued: 2, duplicates: 0 });
    expect(first.json().jobs[0].job_id).toBe('del_p1_i-ce-s_t0');
    const again = await send();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });

  it('binary mode reads the ce-* headers and the data body', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        ...bearer(ENQUEUER),
        'ce-specversion': '1.0',
        'ce-id': 'e-2',
        'ce-source': '/billing',
        'ce-type': DELETION_REQUESTED_EVENT,
        'ce-traceparent': TRACEPARENT,
        'content-type': 'application/json',
      },
      payload: data('ce-b'),
    });
    expect(res.statusCode).toBe(202);
    const job = await h.queue.getJob('del_p1_i-ce-b_t1');
    expect(job?.data).toMatchObject({ reason: 'event', traceparent: TRACEPARENT });
  });

  it('bad envelopes are 400 naming the attribute, in the spelling of their mode', async () => {
    const binary = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        ...bearer(ENQUEUER),
        'ce-specversion': '1.0',
        'ce-source': '/x',
        'ce-type': 'com.other',
        'content-type': 'application/json',
      },
      payload: data('ce-bad'),
    });
    expect(binary.statusCode).toBe(400);
    const fields = binary.json().error.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['ce-id', 'ce-type']));
    const structured = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(ENQUEUER), 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({
        specversion: '0.3',
        id: 'e-3',
        source: '/x',
        type: DELETION_REQUESTED_EVENT,
        data: { tasks: [{ project_id: 'p1', instance_id: 'i' }] },
      }),
    });
    expect(structured.statusCode).toBe(400);
    expect(structured.json().error.fields).toEqual([expect.objectContaining({ field: 'specversion' })]);
    const badData = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(ENQUEUER), 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({
        specversion: '1.0',
        id: 'e-4',
        source: '/x',
        type: DELETION_REQUESTED_EVENT,
        data: { tasks: [{ project_id: 'p1', instance_id: 'i' }] },
      }),
    });
    expect(badData.statusCode).toBe(400);
    expect(badData.json().error.fields).toEqual([{ field: 'data.tasks[0].task_id', message: 'required' }]);
    for (const payload of ['{"specversion": ', '{"__proto__": {"x": 1}}', '[1]']) {
      const junk = await api.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...bearer(ENQUEUER), 'content-type': 'application/cloudevents+json' },
        payload,
      });
      expect(junk.statusCode, payload).toBe(400);
      expect(junk.json().error.code).toBe('INVALID_INPUT');
    }
    const batch = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(ENQUEUER), 'content-type': 'application/cloudevents-batch+json' },
      payload: '[]',
    });
    expect(batch.statusCode).toBe(415);
    const readOnly = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...bearer(READER), 'content-type': 'application/cloudevents+json' },
      payload: '{}',
    });
    expect(readOnly.statusCode).toBe(403);
  });
});

describe('traceparent', () => {
  it('is carried through the job into the outcome record of its DELETE', async () => {
    const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
    const res = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { ...bearer(ENQUEUER), traceparent: TRACEPARENT },
      payload: { tasks: [{ project_id: h.projectId, instance_id: h.instanceId, task_id: task!.id }] },
    });
    expect(res.statusCode).toBe(202);
    // The DCS client's own debug record of the DELETE carries the trace id too.
    await h.startWorker();
    const call = await waitFor(
      () =>
        h.logs.records.find(
          (r) => r.msg === 'dcs request' && r.method === 'DELETE' && r.path.endsWith(task!.id),
        ),
      'the debug record of the DELETE',
    );
    expect(call).toMatchObject({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', status: 200 });
    const record = await waitFor(
      () => h.logs.records.find((r) => r.msg === 'task deleted' && r.task_id === task!.id),
      'the outcome record',
    );
    expect(record).toMatchObject({ traceparent: TRACEPARENT, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    const status = await api.inject({
      method: 'GET',
      url: `/v1/deletions/${res.json().jobs[0].job_id}`,
      headers: bearer(READER),
    });
    expect(status.json()).toMatchObject({
      traceparent: TRACEPARENT,
      result: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
    });
  });

  it('a malformed traceparent is 400 naming it', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: {
        ...bearer(ENQUEUER),
        traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      },
      payload: { tasks: tasks('trace-bad', 1) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields).toEqual([
      { field: 'traceparent', message: 'the trace-id must not be all zeros' },
    ]);
  });
});
