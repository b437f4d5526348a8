/**
 * A whole pipeline in one test process: the emulator on a free port, a real Redis under a unique
 * prefix, a producer, and a worker pool using real signed requests over loopback.
 */
import type { Queue } from 'bullmq';
import {
  startEmulator,
  DEMO_CREDENTIALS,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator/emulator.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { Credentials } from '../../src/huawei/credentials.js';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import {
  createCleanupWorker,
  type CleanupWorker,
  type CleanupWorkerOptions,
} from '../../src/queue/worker.js';
import { openQueue } from '../../src/queue/open-queue.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { captureLogger } from './log-capture.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from './redis-prefix.js';

/** Retry timings small enough for tests, same shape as production. */
export const FAST_POLICY = {
  inProcessRetries: 1,
  inProcessBaseMs: 5,
  inProcessCapMs: 20,
  attempts: 3,
  backoffBaseMs: 10,
  backoffCapMs: 50,
  busyFloorMs: 50,
  busyJitterMs: 50,
  throttleMinMs: 50,
  throttleMaxMs: 100,
  throttleCapMs: 2_000,
  maxStarts: 100,
};

export interface Harness {
  prefix: string;
  emulator: Emulator;
  connection: RedisClient;
  producer: Producer;
  queue: Queue;
  metrics: Metrics;
  logs: ReturnType<typeof captureLogger>;
  credentials: Credentials;
  /** Swap the key the workers sign with (for auth-failure tests). */
  useCredentials(credentials: Credentials): void;
  startWorker(options?: Partial<CleanupWorkerOptions>): Promise<CleanupWorker>;
  /** Project and instance ids of the seeded inventory. */
  projectId: string;
  instanceId: string;
  close(): Promise<void>;
}

export async function createHarness(label: string, emulatorOptions: EmulatorOptions = {}): Promise<Harness> {
  const prefix = uniquePrefix(label);
  const emulator = await startEmulator({ rateLimitPerSecond: 0, ...emulatorOptions });
  const connection = createRedisConnection(REDIS_URL, 'worker');
  const producer = createProducer({ connection, prefix, attempts: FAST_POLICY.attempts });
  const queue = openQueue(connection, prefix);
  const logs = captureLogger('info');
  const metrics = createMetrics({ processMetrics: false });
  let credentials = new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk);
  const clients = new Map<Credentials, DcsClient>();
  const clientFor = (c: Credentials): DcsClient => {
    let client = clients.get(c);
    if (!client) {
      client = createDcsClient({
        endpoint: emulator.url,
        credentials: c,
        headersTimeoutMs: 2_000,
        bodyTimeoutMs: 2_000,
      });
      clients.set(c, client);
    }
    return client;
  };
  const workers: CleanupWorker[] = [];
  const project = emulator.inventory().projects[0];
  const projectId = project?.project_id ?? '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const instanceId = project?.instances[0]?.instance_id ?? emulator.addInstance(projectId).instance_id;
  return {
    prefix,
    emulator,
    connection,
    producer,
    queue,
    metrics,
    logs,
    projectId,
    instanceId,
    get credentials() {
      return credentials;
    },
    useCredentials(c) {
      credentials = c;
    },
    async startWorker(options = {}) {
      const worker = await createCleanupWorker({
        connection,
        prefix,
        // Resolved per job, so a test can swap the key the pool signs with.
        getClient: () => clientFor(credentials),
        logger: logs.logger,
        metrics,
        concurrency: 8,
        rateLimitPerSecond: 0,
        policy: FAST_POLICY,
        probeIntervalMs: 100,
        shutdownTimeoutMs: 2_000,
        ...options,
      });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const w of workers) await w.close();
      await producer.close();
      await queue.close();
      for (const c of clients.values()) await c.close();
      connection.disconnect();
      await emulator.close();
      await deletePrefix(prefix);
    },
  };
}
