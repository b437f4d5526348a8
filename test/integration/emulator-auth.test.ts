import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEMO_CREDENTIALS,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator/emulator.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { signRequest } from '../../src/huawei/signer.js';
import {
  callSigned,
  DEMO_KEY,
  PROJECT_ID,
  seedInstance,
  send,
  taskId,
  taskPath,
  tasksPath,
} from './emulator-support.js';

let emulator: Emulator | undefined;
let instanceId: string;

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

/** Signs with the official Huawei Node SDK (it adds X-Sdk-Date and host itself) and sends with undici. */
async function callWithOfficialSdk(
  e: Emulator,
  method: string,
  path: string,
  query: Record<string, string> = {},
) {
  const credential = new BasicCredentials().withAk(DEMO_CREDENTIALS.ak).withSk(DEMO_CREDENTIALS.sk);
  const headers = AKSKSigner.sign(
    {
      endpoint: `${e.url}${path}`,
      method,
      queryParams: query,
      headers: { 'Content-Type': 'application/json', 'X-Project-Id': PROJECT_ID },
    },
    credential,
  ) as Record<string, string>;
  const qs = new URLSearchParams(query).toString();
  return send(method, `${e.url}${path}${qs ? `?${qs}` : ''}`, headers);
}

function expectAuthFailure(res: { status: number; json: () => any }, reason = ''): void {
  expect(res.status).toBe(401);
  expect(res.json()).toEqual({
    error_code: 'APIGW.0301',
    error_msg: expect.stringContaining(reason),
    request_id: expect.stringMatching(/^[0-9a-f]{32}$/),
  });
}

describe('signature verification against the official Huawei SDK signer', () => {
  it("accepts the official SDK's signed DELETE", async () => {
    const e = await start();
    const res = await callWithOfficialSdk(e, 'DELETE', taskPath(instanceId, taskId(1)));
    expect(res.status).toBe(200);
    expect(e.getTask(taskId(1))).toBeUndefined();
  });

  it("accepts the official SDK's signed GET with a query string", async () => {
    const e = await start();
    const res = await callWithOfficialSdk(e, 'GET', tasksPath(instanceId), { offset: '0', limit: '2' });
    expect(res.status).toBe(200);
    expect(res.json().tasks).toHaveLength(2);
  });

  it('accepts the project signer with temporary credentials when the security token matches', async () => {
    const e = await start({ credentials: { ...DEMO_CREDENTIALS, securityToken: 'token-1' } });
    const withToken = new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk, 'token-1');
    const wrongToken = new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk, 'token-2');
    const noToken = new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk);
    expectAuthFailure(
      await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), { credentials: wrongToken }),
    );
    expectAuthFailure(
      await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), { credentials: noToken }),
    );
    const ok = await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), { credentials: withToken });
    expect(ok.status).toBe(200);
  });
});

describe('signature rejection with 401 APIGW.0301', () => {
  it('rejects a tampered signature', async () => {
    const e = await start();
    const res = await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), {
      afterSigning: (h) => {
        h.Authorization = h.Authorization!.replace(
          /Signature=(.)/,
          (_, c: string) => `Signature=${c === 'a' ? 'b' : 'a'}`,
        );
      },
    });
    expectAuthFailure(res, 'signature mismatch');
    expect(e.getTask(taskId(1))).toBeDefined();
  });

  it('rejects a request whose query differs from the signed one', async () => {
    const e = await start();
    const url = `${e.url}${tasksPath(instanceId)}`;
    const { headers } = signRequest({ method: 'GET', url: `${url}?limit=1` }, DEMO_KEY, new Date());
    expect((await send('GET', `${url}?limit=1`, headers)).status).toBe(200);
    expectAuthFailure(await send('GET', `${url}?limit=2`, headers), 'signature mismatch');
  });

  it('rejects an X-Sdk-Date 16 minutes old and accepts one 14 minutes old', async () => {
    const e = await start();
    const stale = new Date(Date.now() - 16 * 60_000);
    expectAuthFailure(
      await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), { at: stale }),
      '15 minutes',
    );
    const recent = new Date(Date.now() - 14 * 60_000);
    expect((await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), { at: recent })).status).toBe(
      200,
    );
  });

  it('rejects a request missing the X-Sdk-Date header', async () => {
    const e = await start();
    const res = await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), {
      afterSigning: (h) => delete h['X-Sdk-Date'],
    });
    expectAuthFailure(res, 'x-sdk-date must be sent and signed');
  });

  it('rejects a request missing a header it says it signed', async () => {
    const e = await start();
    const res = await callSigned(e.url, 'DELETE', taskPath(instanceId, taskId(1)), {
      afterSigning: (h) => delete h['X-Project-Id'],
    });
    expectAuthFailure(res, 'signed header x-project-id is missing');
  });

  it('rejects an unknown access key', async () => {
    const e = await start();
    const stranger = new Credentials('UNKNOWNAK00000000000', DEMO_CREDENTIALS.sk);
    expectAuthFailure(await callSigned(e.url, 'GET', tasksPath(instanceId), { credentials: stranger }));
  });
});

describe('lockout after repeated authentication failures', () => {
  const wrongSecret = new Credentials(DEMO_CREDENTIALS.ak, 'not-the-secret');

  it('locks the AK after more than 5 failures in a row, refusing even a good signature until the lockout ends', async () => {
    let clock = Date.parse('2025-01-15T09:30:00.000Z');
    const e = await start({ now: () => clock, lockoutMs: 300_000 });
    const path = taskPath(instanceId, taskId(1));
    for (let i = 0; i < 6; i++) {
      expectAuthFailure(
        await callSigned(e.url, 'DELETE', path, { credentials: wrongSecret, at: new Date(clock) }),
      );
    }
    expect(e.stats().lockedAccessKeys).toEqual([DEMO_CREDENTIALS.ak]);
    expectAuthFailure(await callSigned(e.url, 'DELETE', path, { at: new Date(clock) }), 'locked');
    clock += 299_000;
    expectAuthFailure(await callSigned(e.url, 'DELETE', path, { at: new Date(clock) }));
    clock += 1_000;
    expect((await callSigned(e.url, 'DELETE', path, { at: new Date(clock) })).status).toBe(200);
    expect(e.stats().authFailures).toBe(8);
    expect(e.stats().lockedAccessKeys).toEqual([]);
  });

  it('does not lock after 5 failures, and a success resets the streak', async () => {
    const e = await start();
    const path = tasksPath(instanceId);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++)
        expectAuthFailure(await callSigned(e.url, 'GET', path, { credentials: wrongSecret }));
      expect((await callSigned(e.url, 'GET', path)).status).toBe(200);
    }
    expect(e.stats().lockedAccessKeys).toEqual([]);
  });
});
