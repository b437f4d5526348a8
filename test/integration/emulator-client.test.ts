import { afterEach, describe, expect, it } from 'vitest';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/emulator.js';
import type { RequestLogEntry } from '../../src/emulator/request-pipeline.js';
import { DEMO_KEY, PROJECT_ID, seedInstance, taskId } from './emulator-support.js';

let emulator: Emulator | undefined;
let client: DcsClient | undefined;
let ref: { projectId: string; instanceId: string; taskId: string };

afterEach(async () => {
  await client?.close();
  await emulator?.close();
  client = emulator = undefined;
});

async function start(
  options: EmulatorOptions = {},
  headersTimeoutMs = 15_000,
  pageRetries = 4,
): Promise<Emulator> {
  emulator = await startEmulator({ rateLimitPerSecond: 0, ...options });
  const instanceId = seedInstance(emulator, [
    { id: taskId(1) },
    { id: taskId(2), status: 'EXECUTING' },
    { id: taskId(3), created_at: '2025-01-01T00:00:00.000Z' },
  ]);
  ref = { projectId: PROJECT_ID, instanceId, taskId: taskId(1) };
  client = createDcsClient({ endpoint: emulator.url, credentials: DEMO_KEY, headersTimeoutMs, pageRetries });
  return emulator;
}

describe('the DCS client against the emulator', () => {
  it.each([200, 204] as const)('reads a DELETE answered %i as deleted', async (status) => {
    const e = await start({ deleteSuccessStatus: status });
    const outcome = await client!.deleteBackgroundTask(ref);
    expect(outcome).toMatchObject({
      status,
      verdict: { action: 'deleted' },
      requestId: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(e.getTask(taskId(1))).toBeUndefined();
  });

  it('reads the semantics: already gone, busy, missing instance', async () => {
    await start();
    await client!.deleteBackgroundTask(ref);
    expect((await client!.deleteBackgroundTask(ref)).verdict).toMatchObject({
      action: 'already_gone',
      reason: '111404023',
    });
    expect((await client!.deleteBackgroundTask({ ...ref, taskId: taskId(2) })).verdict.action).toBe('busy');
    const missing = { ...ref, instanceId: '99999999-2222-4333-8444-555555555555' };
    expect((await client!.deleteBackgroundTask(missing)).verdict).toMatchObject({
      action: 'already_gone',
      reason: '111404022',
    });
  });

  it.each([
    [500, '111500000'],
    [502, 'APIGW.0202'],
    [503, undefined],
    [504, 'APIGW.0203'],
  ] as const)('reads an injected %i as retry (error code %s)', async (status, errorCode) => {
    await start({ faults: { statusRates: { [status]: 1 } } });
    const outcome = await client!.deleteBackgroundTask(ref);
    expect(outcome).toMatchObject({ status, errorCode, verdict: { action: 'retry' } });
  });

  it('reads an injected 429 as throttled, with the Retry-After when sent', async () => {
    const e = await start({ faults: { throttleRate: 1 } });
    expect(await client!.deleteBackgroundTask(ref)).toMatchObject({
      verdict: { action: 'throttled', reason: 'APIGW.0308' },
      retryAfterMs: undefined,
    });
    e.setFaults({ throttleRate: 1, retryAfterSeconds: 3 });
    expect(await client!.deleteBackgroundTask(ref)).toMatchObject({
      verdict: { action: 'throttled' },
      retryAfterMs: 3000,
    });
  });

  it('reads a connection reset as a network error to retry', async () => {
    await start({ faults: { resetRate: 1 } });
    const outcome = await client!.deleteBackgroundTask(ref);
    expect(outcome).toMatchObject({ networkError: 'reset', verdict: { action: 'retry' } });
  });

  it('gives up on a hung request at its headers timeout and reads it as a timeout to retry', async () => {
    const hung: RequestLogEntry[] = [];
    await start({ faults: { hangRate: 1 }, onRequest: (entry) => hung.push(entry) }, 300);
    const outcome = await client!.deleteBackgroundTask(ref);
    expect(outcome).toMatchObject({ networkError: 'timeout', verdict: { action: 'retry' } });
    expect(hung.map((entry) => entry.status)).toEqual(['hang']);
  });

  it('waits out injected latency and still reads the answer', async () => {
    await start({ faults: { latencyMs: 50 } });
    const outcome = await client!.deleteBackgroundTask(ref);
    expect(outcome.verdict.action).toBe('deleted');
    expect(outcome.durationMs).toBeGreaterThanOrEqual(45);
  });

  it('reads a scripted sequence one attempt at a time', async () => {
    const e = await start();
    e.scriptTask(taskId(1), [{ status: 503 }, { reset: true }, { status: 401, errorCode: 'APIGW.0301' }]);
    const actions = [];
    for (let i = 0; i < 4; i++) actions.push((await client!.deleteBackgroundTask(ref)).verdict.action);
    expect(actions).toEqual(['retry', 'retry', 'auth_failed', 'deleted']);
  });

  it('lists tasks newest first through pages, in a time window, and lists instances', async () => {
    await start();
    const all = [];
    for await (const task of client!.listBackgroundTasks(ref, { pageSize: 2 })) all.push(task.id);
    expect(all).toHaveLength(3);
    expect(all[2]).toBe(taskId(3));
    const old = [];
    const window = { startTime: new Date('2024-12-31T00:00:00Z'), endTime: new Date('2025-01-02T00:00:00Z') };
    for await (const task of client!.listBackgroundTasks(ref, window)) old.push(task.id);
    expect(old).toEqual([taskId(3)]);
    const instances = [];
    for await (const instance of client!.listInstances(PROJECT_ID)) instances.push(instance);
    expect(instances).toHaveLength(1);
  });

  it('retries a list page after transient faults and still lists every task', async () => {
    const e = await start({
      faults: { statusRates: { 503: 0.3 }, resetRate: 0.1, routes: ['listTasks'], seed: 5 },
    });
    e.addTasks(
      ref.instanceId,
      Array.from({ length: 37 }, () => ({ status: 'SUCCESS' as const })),
    );
    const ids = new Set<string>();
    for await (const task of client!.listBackgroundTasks(ref, { pageSize: 5 })) ids.add(task.id);
    expect(ids.size).toBe(40);
    const listAnswers = e.stats().requests.byRoute.listTasks ?? {};
    expect((listAnswers['503'] ?? 0) + (listAnswers.reset ?? 0)).toBeGreaterThan(0);
  });

  it('gives up on a list page once its retries are spent, with a request error', async () => {
    await start({ faults: { statusRates: { 503: 1 }, routes: ['listTasks'] } }, 15_000, 1);
    const iterate = async () => {
      for await (const task of client!.listBackgroundTasks(ref)) void task;
    };
    await expect(iterate()).rejects.toThrow();
  });
});
