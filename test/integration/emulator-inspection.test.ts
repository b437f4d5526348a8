import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import { callSigned, PROJECT_ID, seedInstance, send, taskId, taskPath } from './emulator-support.js';

let emulator: Emulator;
let instanceId: string;

beforeEach(async () => {
  emulator = await startEmulator({ rateLimitPerSecond: 0 });
  instanceId = seedInstance(emulator, [
    { id: taskId(1), status: 'SUCCESS' },
    { id: taskId(2), status: 'FAILED' },
    { id: taskId(3), status: 'EXECUTING' },
  ]);
});

afterEach(async () => {
  await emulator.close();
});

async function post(path: string, body?: unknown) {
  const res = await request(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: () => JSON.parse(text) };
}

describe('inspection API under /__emulator/ (unsigned)', () => {
  it('GET /__emulator/stats reports requests by route and status, deletions per task and tasks left', async () => {
    await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)));
    await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)));
    await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(3)));
    const stats = (await send('GET', `${emulator.url}/__emulator/stats`)).json();
    expect(stats).toMatchObject({
      requests: { total: 3, byRoute: { delete: { 200: 1, 404: 1, 400: 1 } } },
      deletions: { count: 1, requestsByTask: { [taskId(1)]: 2, [taskId(3)]: 1 } },
      tasksLeft: { total: 2, byStatus: { SUCCESS: 0, FAILED: 1, EXECUTING: 1, CREATED: 0, WAITING: 0 } },
      authFailures: 0,
      lockedAccessKeys: [],
      throttled: 0,
    });
  });

  it('GET /__emulator/tasks lists the remaining tasks, filtered by project, instance and status', async () => {
    const other = seedInstance(emulator, [{ id: taskId(9) }]);
    const all = (await send('GET', `${emulator.url}/__emulator/tasks?project=${PROJECT_ID}`)).json();
    expect(all.task_count).toBe(4);
    const failed = (
      await send('GET', `${emulator.url}/__emulator/tasks?instance=${instanceId}&status=FAILED`)
    ).json();
    expect(failed.tasks).toEqual([
      {
        project_id: PROJECT_ID,
        instance_id: instanceId,
        id: taskId(2),
        name: 'modify',
        status: 'FAILED',
        created_at: expect.any(String),
      },
    ]);
    const second = (await send('GET', `${emulator.url}/__emulator/tasks?instance=${other}`)).json();
    expect(second.tasks.map((t: { id: string }) => t.id)).toEqual([taskId(9)]);
    expect((await send('GET', `${emulator.url}/__emulator/tasks?status=DONE`)).status).toBe(400);
  });

  it('POST /__emulator/faults replaces the faults, and refuses probabilities above 1', async () => {
    const set = await post('/__emulator/faults', { statusRates: { 503: 1 } });
    expect([set.status, set.json()]).toEqual([200, { statusRates: { 503: 1 } }]);
    expect((await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)))).status).toBe(503);
    const bad = await post('/__emulator/faults', { resetRate: 0.6, hangRate: 0.6 });
    expect(bad.status).toBe(400);
    expect(bad.json().error_msg).toMatch(/above 1/);
    expect((await send('GET', `${emulator.url}/__emulator/faults`)).json()).toEqual({
      statusRates: { 503: 1 },
    });
  });

  it('POST /__emulator/scripts scripts the next answers of a task', async () => {
    const res = await post('/__emulator/scripts', { task_id: taskId(1), answers: [{ status: 500 }] });
    expect(res.json()).toEqual({ task_id: taskId(1), scripted: 1 });
    expect((await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)))).status).toBe(500);
    expect((await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)))).status).toBe(200);
    expect((await post('/__emulator/scripts', { task_id: taskId(1), answers: [{ stat: 1 }] })).status).toBe(
      400,
    );
  });

  it('POST /__emulator/reset clears the counters, and with state=true restores the inventory', async () => {
    await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)));
    expect((await post('/__emulator/reset')).json()).toEqual({ reset: true, state: false });
    expect(emulator.stats().requests.total).toBe(0);
    expect(emulator.getTask(taskId(1))).toBeUndefined();

    await emulator.close();
    emulator = await startEmulator({ seed: { instances: 1, tasksPerInstance: 3 } });
    const finished = emulator.remainingTasks().find((t) => t.status === 'SUCCESS' || t.status === 'FAILED')!;
    await callSigned(
      emulator.url,
      'DELETE',
      taskPath(finished.instance_id, finished.id, finished.project_id),
    );
    expect(emulator.remainingTasks()).toHaveLength(2);
    await post('/__emulator/reset?state=true');
    expect(emulator.remainingTasks()).toHaveLength(3);
  });

  it('GET /__emulator/inventory lists projects and instances with their task counts', async () => {
    const inventory = (await send('GET', `${emulator.url}/__emulator/inventory`)).json();
    expect(inventory).toEqual({
      projects: [
        { project_id: PROJECT_ID, instances: [{ instance_id: instanceId, name: 'test-instance', tasks: 3 }] },
      ],
    });
  });

  it('answers an unknown inspection route with 404 and a malformed JSON body with 400', async () => {
    expect((await send('GET', `${emulator.url}/__emulator/nothing`)).status).toBe(404);
    const res = await request(`${emulator.url}/__emulator/faults`, { method: 'POST', body: '{not json' });
    await res.body.text();
    expect(res.statusCode).toBe(400);
  });
});

describe('inventory from a state file', () => {
  it('serves the tasks of several projects from a state file', async () => {
    await emulator.close();
    const instance = { instance_id: '11111111-2222-4333-8444-555555555555' };
    const task = { id: taskId(7), status: 'FAILED', created_at: '2025-01-01T00:00:00Z' };
    emulator = await startEmulator({
      seed: {
        projects: [
          { project_id: PROJECT_ID, instances: [] },
          {
            project_id: 'ffeeddccbbaa99887766554433221100',
            instances: [{ ...instance, tasks: [task] }],
          } as never,
        ],
      },
    });
    const res = await callSigned(
      emulator.url,
      'DELETE',
      taskPath(instance.instance_id, taskId(7), 'ffeeddccbbaa99887766554433221100'),
    );
    expect(res.status).toBe(200);
    expect(emulator.exportState().projects.map((p) => p.project_id)).toEqual([
      PROJECT_ID,
      'ffeeddccbbaa99887766554433221100',
    ]);
  });

  it('refuses a malformed state file naming the bad field', async () => {
    await expect(
      startEmulator({ seed: { projects: [{ project_id: 'x', instances: [] }] } as never }),
    ).rejects.toThrow(/projects\.0\.project_id/);
  });
});
