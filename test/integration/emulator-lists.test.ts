import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import type { QueryParams } from '../../src/huawei/signer.js';
import { callSigned, PROJECT_ID, seedInstance, taskId, tasksPath } from './emulator-support.js';

let emulator: Emulator;
let instanceId: string;
const BASE_MS = Date.parse('2025-03-01T00:00:00.000Z');

/** Task n was created n hours after BASE_MS (plus 250 ms), so higher n is newer. */
function createdAt(n: number): string {
  return new Date(BASE_MS + n * 3_600_000 + 250).toISOString();
}

beforeAll(async () => {
  emulator = await startEmulator({ rateLimitPerSecond: 0 });
  const tasks = Array.from({ length: 25 }, (_, i) => ({ id: taskId(i + 1), created_at: createdAt(i + 1) }));
  instanceId = seedInstance(emulator, tasks);
  emulator.addInstance(PROJECT_ID, { name: 'second' });
});

afterAll(async () => {
  await emulator.close();
});

async function listTasks(query: QueryParams) {
  return callSigned(emulator.url, 'GET', tasksPath(instanceId), { query });
}

describe('GET /v2/{project_id}/instances/{instance_id}/tasks', () => {
  it('returns task_count as a string and tasks with the documented fields, newest first', async () => {
    const res = await listTasks({ offset: 0, limit: 3 });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.task_count).toBe('25');
    expect(body.tasks.map((t: { id: string }) => t.id)).toEqual([taskId(25), taskId(24), taskId(23)]);
    expect(body.tasks[0]).toEqual({
      id: taskId(25),
      name: 'modify',
      details: {},
      user_name: expect.any(String),
      user_id: expect.any(String),
      params: '{}',
      status: 'SUCCESS',
      created_at: createdAt(25),
      updated_at: createdAt(25),
      enable_show: true,
    });
    expect(body.tasks[0].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('pages with offset and limit through every task once, ending on a short page', async () => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    for (let offset = 0; offset < 100; offset += 10) {
      const page = (await listTasks({ offset, limit: 10 })).json();
      pageSizes.push(page.tasks.length);
      seen.push(...page.tasks.map((t: { id: string }) => t.id));
      if (page.tasks.length < 10) break;
    }
    expect(pageSizes).toEqual([10, 10, 5]);
    expect(new Set(seen).size).toBe(25);
  });

  it('defaults to offset 0 and limit 10', async () => {
    const body = (await listTasks({})).json();
    expect(body.tasks).toHaveLength(10);
    expect(body.tasks[0].id).toBe(taskId(25));
  });

  it('filters on created_at with start_time and end_time (yyyyMMddHHmmss UTC, both inclusive)', async () => {
    // Task 3 was created at 03:00:00.250 and task 5 at 05:00:00.250 on 2025-03-01.
    const body = (
      await listTasks({ start_time: '20250301030000', end_time: '20250301050000', limit: 100 })
    ).json();
    expect(body.task_count).toBe('3');
    expect(body.tasks.map((t: { id: string }) => t.id)).toEqual([taskId(5), taskId(4), taskId(3)]);
    const startOnly = (await listTasks({ start_time: '20250301230000', limit: 100 })).json();
    expect(startOnly.tasks.map((t: { id: string }) => t.id)).toEqual([taskId(25), taskId(24), taskId(23)]);
  });

  it.each([
    { limit: 0 },
    { limit: 1001 },
    { limit: 'ten' },
    { offset: -1 },
    { offset: '1.5' },
    { start_time: '2025-03-01' },
    { end_time: '20250230000000' },
    { start_time: '20250302000000', end_time: '20250301000000' },
  ])('answers 400 111400063 for %o', async (query) => {
    const res = await listTasks(query);
    expect([res.status, res.json().error_code]).toEqual([400, '111400063']);
  });

  it('answers 404 111404022 for an unknown instance and 400 111400061 for a malformed one', async () => {
    const unknown = await callSigned(emulator.url, 'GET', tasksPath('99999999-2222-4333-8444-555555555555'));
    expect([unknown.status, unknown.json().error_code]).toEqual([404, '111404022']);
    const malformed = await callSigned(emulator.url, 'GET', tasksPath('nope'));
    expect([malformed.status, malformed.json().error_code]).toEqual([400, '111400061']);
  });
});

describe('GET /v2/{project_id}/instances', () => {
  it('returns instance_num as an integer and the documented instance fields, paged', async () => {
    const path = `/v2/${PROJECT_ID}/instances`;
    const first = (await callSigned(emulator.url, 'GET', path, { query: { offset: 0, limit: 1 } })).json();
    expect(first.instance_num).toBe(2);
    expect(first.instances).toEqual([
      {
        instance_id: instanceId,
        name: 'test-instance',
        status: 'RUNNING',
        engine: 'Redis',
        engine_version: expect.any(String),
        created_at: expect.stringMatching(/Z$/),
        enterprise_project_id: '0',
      },
    ]);
    const second = (await callSigned(emulator.url, 'GET', path, { query: { offset: 1, limit: 1 } })).json();
    expect(second.instances.map((i: { name: string }) => i.name)).toEqual(['second']);
  });

  it('answers 400 111400063 for limit 0 and 404 111404022 for an unknown project', async () => {
    const bad = await callSigned(emulator.url, 'GET', `/v2/${PROJECT_ID}/instances`, { query: { limit: 0 } });
    expect([bad.status, bad.json().error_code]).toEqual([400, '111400063']);
    const unknown = await callSigned(emulator.url, 'GET', `/v2/${'1'.repeat(32)}/instances`);
    expect([unknown.status, unknown.json().error_code]).toEqual([404, '111404022']);
  });
});
