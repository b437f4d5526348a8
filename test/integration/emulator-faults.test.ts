import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/emulator.js';
import type { RequestLogEntry } from '../../src/emulator/request-pipeline.js';
import { callSigned, seedInstance, taskId, taskPath, tasksPath } from './emulator-support.js';

let emulator: Emulator | undefined;
let instanceId: string;
const TASK = taskId(1);

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  emulator = await startEmulator({ rateLimitPerSecond: 0, ...options });
  instanceId = seedInstance(
    emulator,
    [1, 2, 3].map((n) => ({ id: taskId(n) })),
  );
  return emulator;
}

function deleteTask(e: Emulator, id = TASK) {
  return callSigned(e.url, 'DELETE', taskPath(instanceId, id));
}

describe('injected HTTP errors', () => {
  it('answers 500 with the DCS body 111500000 and keeps the task', async () => {
    const e = await start({ faults: { statusRates: { 500: 1 } } });
    const res = await deleteTask(e);
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({
      error_code: '111500000',
      error_msg: expect.any(String),
      error_ext_msg: null,
    });
    expect(e.getTask(TASK)).toBeDefined();
    expect(e.stats().faults).toEqual({ status500: 1 });
  });

  it.each([
    [502, 'APIGW.0202'],
    [504, 'APIGW.0203'],
  ] as const)('answers %i with a gateway body %s', async (status, code) => {
    const e = await start({ faults: { statusRates: { [status]: 1 } } });
    const res = await deleteTask(e);
    expect(res.status).toBe(status);
    expect(res.json()).toEqual({
      error_code: code,
      error_msg: expect.any(String),
      request_id: res.headers['x-request-id'],
    });
  });

  it('answers 503 with an HTML page that is not JSON', async () => {
    const e = await start({ faults: { statusRates: { 503: 1 } } });
    const res = await deleteTask(e);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('text/html');
    expect(res.text).toMatch(/^<html>/);
  });

  it('answers an injected 429 APIGW.0308 without Retry-After, or with it when retryAfterSeconds is set', async () => {
    const e = await start({ faults: { throttleRate: 1 } });
    const plain = await deleteTask(e);
    expect([plain.status, plain.json().error_code, plain.headers['retry-after']]).toEqual([
      429,
      'APIGW.0308',
      undefined,
    ]);
    e.setFaults({ throttleRate: 1, retryAfterSeconds: 2 });
    const withHeader = await deleteTask(e);
    expect([withHeader.status, withHeader.headers['retry-after']]).toEqual([429, '2']);
    expect(e.stats().faults).toEqual({ throttle: 2 });
  });
});

describe('injected transport faults', () => {
  it('resets the connection without an answer', async () => {
    const e = await start({ faults: { resetRate: 1 } });
    await expect(deleteTask(e)).rejects.toThrow(/other side closed|socket|ECONNRESET/i);
    expect(e.getTask(TASK)).toBeDefined();
    expect(e.stats().requests.byRoute.delete).toEqual({ reset: 1 });
  });

  it('adds latency of latencyMs plus jitter before answering', async () => {
    const e = await start({ faults: { latencyMs: 120, jitterMs: 30 } });
    const startedMs = performance.now();
    const res = await deleteTask(e);
    expect(res.status).toBe(200);
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(115);
  });

  it('hangs without answering until the emulator closes, which ends the request', async () => {
    let onHang: (entry: RequestLogEntry) => void = () => undefined;
    const hung = new Promise<RequestLogEntry>((resolve) => (onHang = resolve));
    const e = await start({
      faults: { hangRate: 1 },
      onRequest: (entry) => entry.status === 'hang' && onHang(entry),
    });
    const settled: string[] = [];
    const pending = deleteTask(e).then(
      () => settled.push('answered'),
      () => settled.push('failed'),
    );
    expect((await hung).route).toBe('delete');
    expect(settled).toEqual([]);
    await e.close();
    await pending;
    expect(settled).toEqual(['failed']);
  });
});

describe('where faults apply', () => {
  it('applies faults to DELETE only by default, and to list calls when their routes are listed', async () => {
    const e = await start({ faults: { statusRates: { 503: 1 } } });
    expect((await callSigned(e.url, 'GET', tasksPath(instanceId))).status).toBe(200);
    expect((await deleteTask(e)).status).toBe(503);
    e.setFaults({ statusRates: { 503: 1 }, routes: ['listTasks'] });
    expect((await callSigned(e.url, 'GET', tasksPath(instanceId))).status).toBe(503);
    expect((await deleteTask(e)).status).toBe(200);
  });

  it('gives the same fault sequence for the same seed', async () => {
    const faults = { statusRates: { 500: 0.3, 503: 0.3 }, seed: 42 };
    const sequences: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const e = await start({ faults });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push((await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(9)))).status);
      sequences.push(statuses);
      await e.close();
    }
    expect(sequences[0]).toEqual(sequences[1]);
    expect(new Set(sequences[0])).toEqual(new Set([404, 500, 503]));
  });
});

describe('scripted answers', () => {
  it('answers the next DELETEs of a task in the scripted order, then behaves normally', async () => {
    const e = await start();
    e.scriptTask(TASK, [
      { status: 503 },
      { reset: true },
      { status: 429, retryAfter: 1 },
      { status: 400, errorCode: '111400017' },
    ]);
    expect((await deleteTask(e)).status).toBe(503);
    await expect(deleteTask(e)).rejects.toThrow();
    const throttled = await deleteTask(e);
    expect([throttled.status, throttled.headers['retry-after'], throttled.json().error_code]).toEqual([
      429,
      '1',
      'APIGW.0308',
    ]);
    expect((await deleteTask(e)).json().error_code).toBe('111400017');
    expect((await deleteTask(e)).status).toBe(200);
    expect(e.deleteRequestCount(TASK)).toBe(5);
    expect(e.stats().faults).toEqual({ scripted: 4 });
  });

  it('answers a scripted 204 without a body and deletes the task', async () => {
    const e = await start();
    e.scriptTask(TASK, [{ status: 204, noBody: true }]);
    const res = await deleteTask(e);
    expect([res.status, res.text]).toEqual([204, '']);
    expect(e.getTask(TASK)).toBeUndefined();
  });

  it('can delete and then lose the answer, so the retry finds the task already gone', async () => {
    const e = await start();
    e.scriptTask(TASK, [{ reset: true, deletes: true }]);
    await expect(deleteTask(e)).rejects.toThrow();
    const retry = await deleteTask(e);
    expect([retry.status, retry.json().error_code]).toEqual([404, '111404023']);
  });

  it('sends a scripted raw body as is', async () => {
    const e = await start();
    e.scriptTask(TASK, [{ status: 200, body: 'not json', contentType: 'text/plain', deletes: false }]);
    const res = await deleteTask(e);
    expect([res.status, res.text, res.headers['content-type']]).toEqual([200, 'not json', 'text/plain']);
    expect(e.getTask(TASK)).toBeDefined();
  });
});
