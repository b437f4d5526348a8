/**
 * `dlq list` and `dlq show` print what DCS sent (error code and message, request id): a server (or
 * a gateway in between) that answers with terminal escape sequences must not drive the operator's
 * terminal. The record itself keeps the text as received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { circuitKey } from '../../src/queue/circuit-breaker.js';

const CLEAR_SCREEN = '\u001b[2J';
const SET_TITLE = '\u001b]0;pwned\u0007';
const C1_CSI = '\u009b31m';
const BIDI = '\u202e';
// eslint-disable-next-line no-control-regex -- the characters this test looks for
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

let h: Harness;
let env: Record<string, string>;

beforeAll(async () => {
  h = await createHarness('dlq-terminal', { seed: { instances: 1, tasksPerInstance: 0 } });
  env = { REDIS_URL, CLEANUP_PREFIX: h.prefix };
  const worker = await h.startWorker();
  const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
  h.emulator.scriptTask(task!.id, [
    {
      status: 400,
      body: {
        error_code: `111400070${CLEAR_SCREEN}`,
        error_msg: `refused ${SET_TITLE} ${C1_CSI} ${BIDI}gnp.exe`,
      },
    },
  ]);
  await h.producer.enqueue({ project_id: h.projectId, instance_id: h.instanceId, task_id: task!.id });
  await waitFor(async () => (await worker.deadLetters.count()) === 1, 'the dead letter');
  const [entry] = await worker.deadLetters.list({});
  // The record keeps what DCS sent; only what is printed is made safe.
  expect(entry!.error_msg).toContain(SET_TITLE);
});
afterAll(async () => {
  await h?.close();
});

describe('dlq output and terminal escapes from DCS', () => {
  it('strips control characters from dlq list, text and JSON', async () => {
    for (const args of [
      ['dlq', 'list'],
      ['dlq', 'list', '--json'],
    ]) {
      const { code, stdout } = await runCli(args, env);
      expect(code).toBe(0);
      expect(stdout).toContain('111400070?');
      expect(stdout, args.join(' ')).not.toMatch(UNSAFE);
    }
  });

  it('strips them from dlq show, keeping the rest of the text', async () => {
    const list = JSON.parse((await runCli(['dlq', 'list', '--json'], env)).stdout) as { id: string }[];
    const { code, stdout } = await runCli(['dlq', 'show', list[0]!.id], env);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(UNSAFE);
    expect(JSON.parse(stdout).error_msg).toBe('refused ?]0;pwned? ?31m ?gnp.exe');
  });

  it('strips them from status, whose circuit state holds what DCS answered', async () => {
    await h.connection.hset(circuitKey(h.prefix), {
      action: 'auth_failed',
      error_code: `APIGW.0301${SET_TITLE}`,
      request_id: `r${CLEAR_SCREEN}`,
      opened_at: new Date().toISOString(),
    });
    try {
      for (const args of [['status'], ['status', '--json']]) {
        const { code, stdout } = await runCli(args, env);
        expect(code).toBe(0);
        expect(stdout).toContain('APIGW.0301?]0;pwned?');
        expect(stdout, args.join(' ')).not.toMatch(UNSAFE);
      }
    } finally {
      await h.connection.del(circuitKey(h.prefix));
    }
  });
});
