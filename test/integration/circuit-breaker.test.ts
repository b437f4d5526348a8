import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { openQueue } from '../../src/queue/open-queue.js';
import { circuitKey, createCircuitBreaker, type CircuitBreaker } from '../../src/queue/circuit-breaker.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';

/** One worker process's breaker: its own connection and queue, as createCleanupWorker builds them. */
interface Member {
  connection: RedisClient;
  queue: Queue;
  circuit: CircuitBreaker;
}

const prefix = uniquePrefix('circuit');
const members: Member[] = [];

async function join(followIntervalMs = 60_000): Promise<Member> {
  const connection = createRedisConnection(REDIS_URL, 'worker');
  const queue = openQueue(connection, prefix);
  const circuit = await createCircuitBreaker({ connection, prefix, queue, listen: true, followIntervalMs });
  const member = { connection, queue, circuit };
  members.push(member);
  return member;
}

afterEach(async () => {
  for (const m of members.splice(0)) {
    await m.circuit.stop();
    await m.queue.close();
    m.connection.disconnect();
  }
  await deletePrefix(prefix);
});

describe('circuit breaker across processes', () => {
  it('tells every other process at once when one opens it, without waiting for a re-read', async () => {
    const [a, b] = [await join(), await join()];
    expect(await a.circuit.open({ action: 'auth_failed', reason: 'http_401' })).toBe(true);
    await waitFor(() => b.circuit.isOpen(), 'the other process to learn the breaker opened', 2_000, 5);
    await a.circuit.close();
    await waitFor(() => !b.circuit.isOpen(), 'the other process to learn the breaker closed', 2_000, 5);
  });

  it('follows a resume made without the breaker (dcs-cleanup resume) within the re-read interval', async () => {
    const [a, b] = [await join(50), await join(50)];
    await a.circuit.open({ action: 'auth_failed', reason: 'http_401' });
    await waitFor(() => b.circuit.isOpen(), 'the breaker to open everywhere');
    await a.connection.del(circuitKey(prefix));
    await a.queue.resume();
    await waitFor(
      () => !a.circuit.isOpen() && !b.circuit.isOpen(),
      'both processes to see the resume',
      2_000,
    );
  });

  it('re-reads the paused flag on demand, and a re-read never undoes an opening under way', async () => {
    const a = await join();
    await a.queue.pause();
    expect(a.circuit.isOpen()).toBe(false);
    expect(await a.circuit.refresh()).toBe(true);
    await a.queue.resume();
    expect(await a.circuit.refresh()).toBe(false);

    const opening = a.circuit.open({ action: 'misconfigured', reason: 'APIGW.0101' });
    expect(await a.circuit.refresh()).toBe(true);
    await opening;
    expect(await a.circuit.refresh()).toBe(true);
    expect(await a.queue.isPaused()).toBe(true);
  });
});
