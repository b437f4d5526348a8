/**
 * Hostile input, part 2 (issue 7): bad HTTP bodies sent to the API, and raw queue payloads written
 * by another client straight into Redis. Each gets a clear error naming what is wrong (a 4xx body
 * listing the fields; a dead letter `invalid_job` saying why), nothing is enqueued or deleted by
 * mistake, and neither the API nor the worker falls over. Part 1 is hostile-input-cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobsOptions } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../../src/api/create-api.js';
import { createDeadLetters } from '../../src/queue/dead-letters.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { JOB_NAME, QUEUE_NAME } from '../../src/queue/job-contract.js';
import type { CleanupWorker } from '../../src/queue/worker.js';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

const TOKEN = 'hostile-input-api-token-0123456789';
const P = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const I = '8f1e22ab-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const task = (taskId: string, extra: Record<string, unknown> = {}) => ({
  project_id: P,
  instance_id: I,
  task_id: taskId,
  ...extra,
});

/** What a response must never show: a stack frame, a source path, an internal module. */
const LEAK = /\bat .+:\d+|\/work\/|node_modules|\.ts\b|\.js:\d|src\/|Error:/;

interface BodyCase {
  what: string;
  method?: 'POST' | 'GET';
  url?: string;
  contentType?: string;
  payload?: string | Buffer;
  status: number;
  code: string;
  /** The bad field, or a word of the message that names what is wrong. */
  names: RegExp;
}

const json = (value: unknown): string => JSON.stringify(value);

const BODY_CASES: BodyCase[] = [
  { what: 'no body', payload: '', status: 400, code: 'INVALID_INPUT', names: /empty|body/i },
  { what: 'not JSON', payload: '{tasks: [}', status: 400, code: 'INVALID_INPUT', names: /JSON/ },
  { what: 'a JSON array', payload: '[]', status: 400, code: 'INVALID_INPUT', names: /body/ },
  {
    what: 'a JSON string',
    payload: '"delete everything"',
    status: 400,
    code: 'INVALID_INPUT',
    names: /body/,
  },
  { what: 'no tasks field', payload: '{}', status: 400, code: 'INVALID_INPUT', names: /tasks/ },
  {
    what: 'no task in the list',
    payload: json({ tasks: [] }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /tasks/,
  },
  {
    what: '1001 tasks',
    payload: json({ tasks: Array.from({ length: 1_001 }, (_, i) => task(`t${i}`)) }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /at most 1000 tasks/,
  },
  {
    what: 'a path in a task id',
    payload: json({ tasks: [task('t1'), task('../../x')] }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /tasks\[1\]\.task_id/,
  },
  {
    what: 'a number as task id',
    payload: json({ tasks: [task('t1'), { ...task('x'), task_id: 7 }] }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /tasks\[1\]\.task_id/,
  },
  {
    what: 'a region with a host name',
    payload: json({ tasks: [task('t1', { region: 'cn-north-4.evil.example' })] }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /tasks\[0\]\.region/,
  },
  {
    what: 'a made-up region that looks like one',
    payload: json({ tasks: [task('t1'), task('t2', { region: 'zz-mars-1' })] }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /tasks\[1\]\.region: unknown region "zz-mars-1"/,
  },
  {
    what: 'an unknown top-level field',
    payload: json({ tasks: [task('t1')], priority: 'now' }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /priority/,
  },
  {
    what: 'a reason too long',
    payload: json({ tasks: [task('t1')], reason: 'r'.repeat(201) }),
    status: 400,
    code: 'INVALID_INPUT',
    names: /reason/,
  },
  {
    what: 'a __proto__ key',
    payload: `{"tasks":[${json(task('t1'))}],"__proto__":{"admin":true}}`,
    status: 400,
    code: 'INVALID_INPUT',
    names: /proto|JSON|body/i,
  },
  {
    what: 'deep nesting',
    payload: `{"tasks":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
    status: 400,
    code: 'INVALID_INPUT',
    names: /tasks/,
  },
  {
    what: 'invalid UTF-8',
    payload: Buffer.concat([
      Buffer.from('{"tasks":[{"project_id":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}]}'),
    ]),
    status: 400,
    code: 'INVALID_INPUT',
    names: /project_id|JSON/,
  },
  {
    what: 'an XML body',
    contentType: 'application/xml',
    payload: json({ tasks: [task('t1')] }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    names: /Media Type/i,
  },
  {
    what: 'a body over 1 MiB',
    payload: json({ tasks: [task('t1')], reason: 'x'.repeat(1_100_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    names: /too large|limit/i,
  },
  {
    what: 'a bad job id',
    method: 'GET',
    url: '/v1/deletions/..%2F..%2Fetc',
    status: 400,
    code: 'INVALID_INPUT',
    names: /job_id/,
  },
  {
    what: 'a non-numeric page size',
    method: 'GET',
    url: '/v1/dead-letters?limit=abc',
    status: 400,
    code: 'INVALID_INPUT',
    names: /limit/,
  },
  {
    what: 'a page size out of range',
    method: 'GET',
    url: '/v1/dead-letters?limit=1000000',
    status: 400,
    code: 'INVALID_INPUT',
    names: /limit/,
  },
  {
    what: 'an unknown query parameter',
    method: 'GET',
    url: '/v1/dead-letters?sort=desc',
    status: 400,
    code: 'INVALID_INPUT',
    names: /sort/,
  },
  {
    what: 'an unknown dead letter reason',
    method: 'GET',
    url: '/v1/dead-letters?reason=%3Cscript%3E',
    status: 400,
    code: 'INVALID_INPUT',
    names: /reason/,
  },
  {
    what: 'a replay of a dead letter that does not exist',
    method: 'POST',
    url: '/v1/dead-letters/dl-nope/replay',
    payload: '{}',
    status: 404,
    code: 'NOT_FOUND',
    names: /dl-nope/,
  },
];

/** Raw payloads another client might write; `raw` replaces the stored fields after a valid add. */
interface PayloadCase {
  what: string;
  data?: unknown;
  raw?: Record<string, string>;
  /** Words the dead letter's error must contain. */
  names: RegExp;
}

const PAYLOAD_CASES: PayloadCase[] = [
  { what: 'null', data: null, names: /payload/ },
  { what: 'an array', data: [task('t1')], names: /payload/ },
  { what: 'a string', data: 'DELETE * FROM tasks', names: /payload/ },
  { what: 'a number', data: 42, names: /payload/ },
  { what: 'an empty object', data: {}, names: /project_id.*instance_id.*task_id|schema_version/ },
  { what: 'no task id', data: { schema_version: 1, project_id: P, instance_id: I }, names: /task_id/ },
  { what: 'a path as task id', data: { schema_version: 1, ...task('../../etc/passwd') }, names: /task_id/ },
  { what: 'a 65-character task id', data: { schema_version: 1, ...task('a'.repeat(65)) }, names: /task_id/ },
  { what: 'a number as task id', data: { schema_version: 1, ...task('x'), task_id: 1234 }, names: /task_id/ },
  { what: 'schema version 3', data: { schema_version: 3, ...task('t1') }, names: /schema_version/ },
  { what: 'no schema version', data: task('t1'), names: /schema_version/ },
  {
    what: 'a region with a host name',
    data: { schema_version: 1, ...task('t1'), region: 'cn-north-4.evil.example' },
    names: /region/,
  },
  {
    what: 'a made-up region',
    data: { schema_version: 1, ...task('t1'), region: 'zz-mars-1' },
    names: /region: unknown region "zz-mars-1"/,
  },
  { what: 'full-width letters', data: { schema_version: 1, ...task('ｔａｓｋ') }, names: /task_id/ },
  {
    what: 'a megabyte of reason',
    data: { schema_version: 1, ...task('t1'), reason: 'r'.repeat(1_000_000) },
    names: /reason/,
  },
  {
    what: 'deep nesting',
    data: {
      schema_version: 1,
      ...task('t1'),
      source: JSON.parse('['.repeat(500) + ']'.repeat(500)) as unknown,
    },
    names: /source/,
  },
  {
    what: 'data that is not JSON',
    raw: { data: '{"schema_version":1,"project_id":' },
    names: /payload|JSON/,
  },
  { what: 'data that is JSON null', raw: { data: 'null' }, names: /payload/ },
  {
    what: 'a __proto__ key',
    raw: {
      data: `{"__proto__":{"task_id":"t1"},"schema_version":1,"project_id":"${P}","instance_id":"${I}"}`,
    },
    names: /task_id/,
  },
  {
    what: 'options that are not JSON',
    raw: { opts: '{attempts: lots' },
    names: /the stored job is not readable/,
  },
  { what: 'progress that is not JSON', raw: { progress: '50%' }, names: /the stored job is not readable/ },
];

describe('hostile input: HTTP bodies', () => {
  let h: Harness;
  let api: FastifyInstance;
  let apiConnection: RedisClient;
  const logs = captureLogger('info');

  beforeAll(async () => {
    h = await createHarness('hostile-api');
    apiConnection = createRedisConnection(REDIS_URL, 'api');
    const deadLetters = createDeadLetters({ connection: apiConnection, prefix: h.prefix });
    api = createApi({
      connection: apiConnection,
      prefix: h.prefix,
      producer: h.producer,
      deadLetters,
      logger: logs.logger,
      auth: { token: TOKEN },
      bullBoard: false,
    });
    await api.ready();
    await waitFor(() => apiConnection.status === 'ready', 'the API connection');
  });

  afterAll(async () => {
    await api?.close();
    apiConnection?.disconnect();
    await h?.close();
  });

  it('has a corpus of at least 20 bad requests', () => {
    expect(BODY_CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.for(BODY_CASES)('answers $what with $status $code naming the problem', async (c) => {
    const response = await api.inject({
      method: c.method ?? 'POST',
      url: c.url ?? '/v1/deletions',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(c.payload === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' }),
      },
      ...(c.payload === undefined ? {} : { payload: c.payload }),
    });
    expect(response.statusCode, response.body.slice(0, 300)).toBe(c.status);
    const body = response.json<{
      error: { code: string; message: string; fields?: { field: string; message: string }[] };
    }>();
    expect(body.error.code).toBe(c.code);
    const fields = (body.error.fields ?? []).map((f) => `${f.field}: ${f.message}`);
    expect([body.error.message, ...fields].join('; ')).toMatch(c.names);
    expect(response.body).not.toMatch(LEAK);
  });

  it('enqueued nothing, and still answers', async () => {
    expect(
      await h.queue.getJobCountByTypes('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
    ).toBe(0);
    expect((await api.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('hostile input: raw queue payloads from another client', () => {
  let h: Harness;
  let worker: CleanupWorker;

  beforeAll(async () => {
    h = await createHarness('hostile-queue', { seed: { instances: 1, tasksPerInstance: 0 } });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Adds a job the way a foreign client might, then overwrites raw fields of its hash. */
  async function addForeignJob(c: PayloadCase, jobId: string): Promise<void> {
    const opts: JobsOptions = { jobId, attempts: 3 };
    await h.queue.add(JOB_NAME, c.raw ? { schema_version: 1, ...task('t1') } : c.data, opts);
    if (c.raw) await h.connection.hset(`${h.prefix}:${QUEUE_NAME}:${jobId}`, c.raw);
  }

  it('dead-letters each one as invalid_job saying why, sends no DELETE, and keeps working', async () => {
    expect(PAYLOAD_CASES.length).toBeGreaterThanOrEqual(15);
    const ids = PAYLOAD_CASES.map((_, i) => `foreign-${i}`);
    // Written before any worker runs, so every one of them is picked up as it was written.
    for (const [i, c] of PAYLOAD_CASES.entries()) await addForeignJob(c, ids[i]!);
    // A short lock and sweep: a job BullMQ cannot even fetch is found when its lock has lapsed.
    worker = await h.startWorker({ lockDurationMs: 1_000, sweepIntervalMs: 500 });
    const letters = await waitFor(
      async () => {
        const byJob = new Map((await worker.deadLetters.list()).map((l) => [l.job_id, l]));
        return ids.every((id) => byJob.has(id)) ? byJob : undefined;
      },
      'a dead letter for every foreign job',
      30_000,
      200,
    );
    for (const [i, c] of PAYLOAD_CASES.entries()) {
      const letter = letters.get(ids[i]!)!;
      expect(letter.reason, c.what).toBe('invalid_job');
      expect(letter.error_msg ?? '', c.what).toMatch(c.names);
      expect(JSON.stringify(letter.job_data ?? null).length, c.what).toBeLessThanOrEqual(4_200);
      // Each is finished or gone: none is left to be fetched again.
      const state = await h.queue.getJobState(ids[i]!);
      expect(['completed', 'unknown'], `${c.what}: ${state}`).toContain(state);
    }
    expect(letters.size).toBe(PAYLOAD_CASES.length);
    expect(h.emulator.stats().requests.byRoute.delete ?? {}).toEqual({});

    const [real] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
    await h.producer.enqueue({ project_id: h.projectId, instance_id: h.instanceId, task_id: real!.id });
    await waitFor(() => h.emulator.getTask(real!.id) === undefined, 'a valid job after the garbage');
    expect(await worker.waitUntilIdle()).toBe('idle');
    expect(await h.queue.getJobCountByTypes('failed', 'wait', 'active', 'delayed')).toBe(0);
  });
});
