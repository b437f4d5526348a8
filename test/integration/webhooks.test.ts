/**
 * Webhooks through the real queue: a receiver on loopback that fails its first two deliveries (500)
 * gets the event on the third, signed with the secret; the breaker and the dead-letter threshold
 * emit their events; the delivery failures show in the metrics and the webhook status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createEventPublisher, type EventPublisher } from '../../src/events/event-publisher.js';
import { createWebhookWorker, type WebhookWorker } from '../../src/events/webhook-worker.js';
import { startDeadLetterAlerts } from '../../src/events/dead-letter-alerts.js';
import { getWebhookStatus } from '../../src/events/webhook-status.js';
import { EVENT_TYPES } from '../../src/events/event-types.js';
import { createCircuitBreaker } from '../../src/queue/circuit-breaker.js';
import { QUEUE_NAME } from '../../src/queue/job-contract.js';

const SECRET = 'webhook-secret-for-tests';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let baseUrl: string;
const received: Received[] = [];
/** Answers per path: the first `failures` deliveries get 500. */
const failuresLeft = new Map<string, number>();

let connection: RedisClient;
let prefix: string;
let publisher: EventPublisher;
let webhooks: WebhookWorker;
let registry: Registry;
const logs = captureLogger('info');

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const left = failuresLeft.get(path) ?? 0;
      failuresLeft.set(path, left - 1);
      res.statusCode = left > 0 ? 500 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  prefix = uniquePrefix('webhooks');
  connection = createRedisConnection(REDIS_URL, 'worker');
  const targets = [
    { url: `${baseUrl}/all?token=secret-in-url`, events: new Set(EVENT_TYPES) },
    { url: `${baseUrl}/breaker`, events: new Set(['breaker.opened', 'breaker.closed'] as const) },
  ];
  publisher = createEventPublisher({
    connection,
    prefix,
    logger: logs.logger,
    targets,
    attempts: 3,
    backoffMs: 100,
  });
  registry = new Registry();
  webhooks = createWebhookWorker({
    connection,
    prefix,
    logger: logs.logger,
    targets,
    secret: SECRET,
    timeoutMs: 2_000,
    concurrency: 2,
    registry,
  });
});

afterAll(async () => {
  await webhooks?.close();
  await publisher?.close();
  connection?.disconnect();
  await new Promise((resolve) => server?.close(resolve));
  if (prefix) await deletePrefix(prefix);
});

const deliveriesOf = (eventId: string) => received.filter((r) => r.headers['x-cleanup-event-id'] === eventId);
const hmac = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe('webhooks', () => {
  it('delivers run.finished, signed, even when the first two deliveries fail with 500', async () => {
    failuresLeft.set('/all?token=secret-in-url', 2);
    const event = await publisher.publishEvent('run.finished', { run_id: 'run-1', counts: { deleted: 3 } });
    await waitFor(() => deliveriesOf(event.id).length >= 3, 'three deliveries');
    const all = deliveriesOf(event.id);
    expect(all.map((d) => d.path)).toEqual(Array(3).fill('/all?token=secret-in-url'));
    const last = all[2]!;
    expect(last.headers['x-cleanup-signature']).toBe(hmac(last.body));
    expect(last.headers['x-cleanup-event-type']).toBe('run.finished');
    expect(JSON.parse(last.body)).toEqual({
      type: 'run.finished',
      id: event.id,
      time: event.time,
      subject: { run_id: 'run-1', counts: { deleted: 3 } },
    });
    // Only the breaker's receiver skips it: it asked for breaker events only.
    expect(received.some((r) => r.path === '/breaker' && r.headers['x-cleanup-event-id'] === event.id)).toBe(
      false,
    );
    await waitFor(
      () => logs.records.find((r) => r.msg === 'webhook delivered' && r.event_id === event.id),
      'delivered',
    );
    const metric = await registry.getSingleMetricAsString('dcs_cleanup_webhook_deliveries_total');
    expect(metric).toContain('result="failed"} 2');
    expect(metric).toContain('result="delivered"} 1');
    // Neither the secret nor the URL's token reach Redis or the logs.
    const job = await publisher.queue.getJob(`${event.id}-0`);
    expect(JSON.stringify(job?.data)).not.toContain('secret-in-url');
    expect(logs.text()).not.toContain('secret-in-url');
    expect(logs.text()).not.toContain(SECRET);
    expect(logs.records.find((r) => r.msg === 'event' && r.event_id === event.id)).toMatchObject({
      event_type: 'run.finished',
    });
  });

  it('gives up after its attempts, visible in the metrics and the status', async () => {
    failuresLeft.set('/all?token=secret-in-url', 100);
    const event = await publisher.publishEvent('run.failed', { run_id: 'run-2' });
    await waitFor(
      () => logs.records.find((r) => r.msg === 'webhook delivery given up' && r.event_id === event.id),
      'given up',
    );
    const status = await getWebhookStatus(connection, prefix);
    expect(status.given_up).toBe(1);
    expect(status.last_failure).toMatchObject({
      event_id: event.id,
      event_type: 'run.failed',
      error: 'the receiver answered HTTP 500',
    });
    expect(await registry.getSingleMetricAsString('dcs_cleanup_webhook_deliveries_total')).toContain(
      'result="given_up"} 1',
    );
    failuresLeft.set('/all?token=secret-in-url', 0);
  });

  it('the breaker announces breaker.opened and breaker.closed', async () => {
    const queue = new Queue(QUEUE_NAME, { connection, prefix });
    const circuit = await createCircuitBreaker({
      connection,
      prefix,
      queue,
      onTransition: (t, state) => void publisher.publishEvent(`breaker.${t}`, { ...state }),
    });
    try {
      await circuit.open({
        action: 'auth_failed',
        reason: 'HTTP 401',
        http_status: 401,
        error_code: 'APIGW.0301',
      });
      // A second opener is not the first: no second event.
      await circuit.open({ action: 'auth_failed', reason: 'HTTP 401' });
      await circuit.close();
      const types = () =>
        received
          .filter((r) => r.path === '/breaker')
          .map((r) => JSON.parse(r.body) as { type: string; subject: any });
      await waitFor(() => types().length >= 2, 'the two breaker events');
      expect(
        types()
          .map((e) => e.type)
          .sort(),
      ).toEqual(['breaker.closed', 'breaker.opened']);
      expect(types().find((e) => e.type === 'breaker.opened')?.subject).toMatchObject({
        action: 'auth_failed',
        error_code: 'APIGW.0301',
      });
    } finally {
      await circuit.stop();
      await queue.close();
    }
  });

  it('dead_letters.threshold fires on crossing the count and on growth, once per crossing', async () => {
    let count = 5;
    const alerts = startDeadLetterAlerts({
      connection,
      prefix,
      logger: logs.logger,
      count: () => Promise.resolve(count),
      events: publisher,
      threshold: 10,
      growth: 4,
      intervalMs: 600_000,
    });
    const unlock = () => connection.del(`${prefix}:events:dead-letters:lock`);
    try {
      expect(await alerts.check()).toBe(false); // first look: 5, below both
      await unlock();
      count = 11;
      expect(await alerts.check()).toBe(true); // crossed 10, and grew by 6
      await unlock();
      count = 12;
      expect(await alerts.check()).toBe(false); // still above: not again
      await unlock();
      count = 3;
      expect(await alerts.check()).toBe(false);
      await unlock();
      count = 8;
      expect(await alerts.check()).toBe(true); // growth of 5 alone
      const events = logs.records.filter(
        (r) => r.msg === 'event' && r.event_type === 'dead_letters.threshold',
      );
      expect(events.map((e) => e.subject.reasons)).toEqual([['count', 'growth'], ['growth']]);
    } finally {
      alerts.stop();
    }
  });
});
