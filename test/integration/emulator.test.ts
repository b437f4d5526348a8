import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyAttempt } from '../../src/dcs/classify.js';
import { startEmulator, type Emulator } from '../../src/emulator/emulator.js';
import {
  callSigned,
  OTHER_PROJECT_ID,
  PROJECT_ID,
  seedInstance,
  send,
  taskId,
  taskPath,
  tasksPath,
} from './emulator-support.js';

let emulator: Emulator;
let instanceId: string;

beforeEach(async () => {
  emulator = await startEmulator({ rateLimitPerSecond: 0 });
  instanceId = seedInstance(emulator, [
    { id: taskId(1), status: 'SUCCESS' },
    { id: taskId(2), status: 'FAILED' },
    { id: taskId(3), status: 'EXECUTING' },
    { id: taskId(4), status: 'WAITING' },
    { id: taskId(5), status: 'CREATED' },
  ]);
});

afterEach(async () => {
  await emulator.close();
});

describe('DELETE /v2/{project_id}/instances/{instance_id}/tasks/{task_id}', () => {
  it.each([taskId(1), taskId(2)])('deletes the finished task %s with 200 {"message":""}', async (id) => {
    const res = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, id));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ message: '' });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(emulator.getTask(id)).toBeUndefined();
    expect(emulator.stats().deletions.count).toBe(1);
  });

  it('answers 204 without a body when configured with deleteSuccessStatus 204', async () => {
    await emulator.close();
    emulator = await startEmulator({ deleteSuccessStatus: 204 });
    instanceId = seedInstance(emulator, [{ id: taskId(1) }]);
    const res = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(emulator.remainingTasks()).toEqual([]);
  });

  it('answers 404 111404023 for a task that is already deleted, which the classifier reads as already gone', async () => {
    await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)));
    const res = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)));
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({
      error_code: '111404023',
      error_msg: expect.any(String),
      error_ext_msg: null,
    });
    expect(classifyAttempt({ status: 404, errorCode: '111404023' }).action).toBe('already_gone');
    expect(emulator.deleteRequestCount(taskId(1))).toBe(2);
  });

  it('answers 404 111404022 for an unknown instance, an instance of another project and an unknown project', async () => {
    emulator.addInstance(OTHER_PROJECT_ID, { instance_id: '11111111-2222-4333-8444-555555555555' });
    const paths = [
      taskPath('99999999-2222-4333-8444-555555555555', taskId(1)),
      taskPath('11111111-2222-4333-8444-555555555555', taskId(1)),
      taskPath(instanceId, taskId(1), 'abcdefabcdefabcdefabcdefabcdef12'),
    ];
    for (const path of paths) {
      const res = await callSigned(emulator.url, 'DELETE', path);
      expect([res.status, res.json().error_code]).toEqual([404, '111404022']);
    }
    expect(emulator.getTask(taskId(1))).toBeDefined();
  });

  it.each([taskId(3), taskId(4), taskId(5)])(
    'refuses the unfinished task %s with 400 111400017 and keeps it',
    async (id) => {
      const res = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, id));
      expect([res.status, res.json().error_code]).toEqual([400, '111400017']);
      expect(emulator.getTask(id)).toBeDefined();
    },
  );

  it('answers 400 111400070 for a task id that is not 32 hex characters', async () => {
    const res = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, 'not-a-task-id'));
    expect([res.status, res.json().error_code]).toEqual([400, '111400070']);
  });

  it('answers 400 111400061 for an instance id that is not a UUID', async () => {
    const res = await callSigned(emulator.url, 'DELETE', taskPath('instance-1', taskId(1)));
    expect([res.status, res.json().error_code]).toEqual([400, '111400061']);
  });

  it('deletes by the project in the path even when X-Project-Id names another project', async () => {
    const res = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(1)), {
      headers: { 'X-Project-Id': OTHER_PROJECT_ID },
    });
    expect(res.status).toBe(200);
  });
});

describe('gateway routing', () => {
  it.each([
    ['GET', `/v2/${PROJECT_ID}/instances/x/tasks/${taskId(1)}/extra`],
    ['POST', `/v2/${PROJECT_ID}/instances`],
    ['GET', '/v3/whatever'],
  ])('answers %s %s with 404 APIGW.0101 in the gateway shape', async (method, path) => {
    const res = await callSigned(emulator.url, method, path);
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({
      error_code: 'APIGW.0101',
      error_msg: expect.any(String),
      request_id: res.headers['x-request-id'],
    });
  });

  it('answers an unsigned request with 401 APIGW.0301', async () => {
    const res = await send('GET', `${emulator.url}${tasksPath(instanceId)}`);
    expect([res.status, res.json().error_code]).toEqual([401, 'APIGW.0301']);
  });
});

describe('throttling', () => {
  it('answers 429 APIGW.0308 without Retry-After above the per-API rate, per one-second window', async () => {
    await emulator.close();
    let clock = Date.parse('2025-01-15T09:30:00.100Z');
    emulator = await startEmulator({ rateLimitPerSecond: 3, now: () => clock });
    instanceId = seedInstance(
      emulator,
      [1, 2, 3, 4, 5].map((n) => ({ id: taskId(n) })),
    );
    const at = new Date(clock);
    const statuses = [];
    for (let n = 1; n <= 4; n++) {
      statuses.push(
        (await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(n)), { at })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const throttled = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(5)), { at });
    expect(throttled.json()).toMatchObject({
      error_code: 'APIGW.0308',
      error_msg: expect.stringContaining('ratelimit'),
    });
    expect(throttled.headers['retry-after']).toBeUndefined();
    // Another API has its own counter.
    expect((await callSigned(emulator.url, 'GET', tasksPath(instanceId), { at })).status).toBe(200);
    clock += 1000;
    const next = await callSigned(emulator.url, 'DELETE', taskPath(instanceId, taskId(5)), {
      at: new Date(clock),
    });
    expect(next.status).toBe(200);
    expect(emulator.stats().throttled).toBe(2);
  });
});
