/**
 * The events wiring of the real processes: a `dcs-cleanup worker` whose key DCS refuses opens the
 * breaker and its own webhook worker delivers `breaker.opened`, signed with the secret read from
 * CLEANUP_WEBHOOK_SECRET_FILE, to a receiver on loopback, then `breaker.closed` once `dcs-cleanup
 * resume` closed it; `token hash` prints the digest of stdin.
 * Needs `npm run build` (spawns dist/bin/cli.js).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { runCli, startCli } from '../support/cli-process.js';
import { waitFor } from '../support/wait-for.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

const SECRET = 'a-webhook-secret-from-a-file';
let h: Harness;
let server: Server;
let url: string;
let dir: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  h = await createHarness('events-cli', { seed: { instances: 1, tasksPerInstance: 0 } });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/dcs`;
  dir = mkdtempSync(join(tmpdir(), 'events-cli-'));
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('events in the worker process', () => {
  it('announces breaker.opened to the webhook, signed with the secret of the file', async () => {
    const secretFile = join(dir, 'webhook-secret');
    writeFileSync(secretFile, `${SECRET}\n`);
    const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
    await h.producer.enqueue({ project_id: h.projectId, instance_id: h.instanceId, task_id: task!.id });
    const worker = startCli(['worker', '--rate-limit', '0'], {
      REDIS_URL,
      CLEANUP_PREFIX: h.prefix,
      CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
      CLOUD_SDK_SK: 'not-the-secret-key-of-this-ak',
      DCS_ENDPOINT: h.emulator.url,
      CLEANUP_WEBHOOK_URL: url,
      CLEANUP_WEBHOOK_SECRET_FILE: secretFile,
      LOG_LEVEL: 'info',
    });
    try {
      const delivery = await waitFor(
        () => received.find((r) => r.headers['x-cleanup-event-type'] === 'breaker.opened'),
        'breaker.opened at the receiver',
        30_000,
        100,
      );
      const expected = `sha256=${createHmac('sha256', SECRET).update(delivery.body).digest('hex')}`;
      expect(delivery.headers['x-cleanup-signature']).toBe(expected);
      const event = JSON.parse(delivery.body);
      expect(event).toMatchObject({ type: 'breaker.opened', id: delivery.headers['x-cleanup-event-id'] });
      expect(event.subject).toMatchObject({ open: true, action: 'auth_failed', http_status: 401 });
      await waitFor(() => worker.stdout().includes('"msg":"webhook delivered"'), 'the delivered record');
      expect(worker.stdout()).toContain('"event_type":"breaker.opened"');
      expect(worker.stdout() + worker.stderr()).not.toContain(SECRET);
      // `dcs-cleanup resume` announces breaker.closed; the worker's webhook consumer delivers it.
      const env = {
        REDIS_URL,
        CLEANUP_PREFIX: h.prefix,
        CLEANUP_WEBHOOK_URL: url,
        CLEANUP_WEBHOOK_SECRET: SECRET,
      };
      const resume = await runCli(['resume'], env);
      expect(resume.code).toBe(0);
      expect(resume.stdout).toContain('queue resumed');
      const closed = await waitFor(
        () => received.find((r) => r.headers['x-cleanup-event-type'] === 'breaker.closed'),
        'breaker.closed at the receiver',
        30_000,
        100,
      );
      expect(JSON.parse(closed.body).subject).toMatchObject({
        open: false,
        action: 'auth_failed',
        closed_by: 'resume',
      });
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});

describe('token hash', () => {
  it('prints the SHA-256 hex of the token on stdin, and refuses a short one', async () => {
    const token = 'b3c1f0e2d4a5968778695a4b3c2d1e0f';
    const ok = await runCli(['token', 'hash'], {}, `${token}\n`);
    expect(ok).toMatchObject({ code: 0, stdout: `${createHash('sha256').update(token).digest('hex')}\n` });
    const short = await runCli(['token', 'hash'], {}, 'short\n');
    expect(short.code).toBe(64);
    expect(short.stderr).toContain('at least 16 characters');
  });
});
