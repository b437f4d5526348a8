/**
 * A whole pipeline in one test process: the emulator on a free port, a real Redis under a unique
 * prefix, a producer, and worker pools started by startWorker (src/app/start-worker.ts), the wiring
 * the `worker` command ships, with real signed requests over loopback. Only the settings differ:
 * the emulator as DCS_ENDPOINT, a small pool, a fast retry policy.
 */
import type { Queue } from 'bullmq';
import {
  startEmulator,
  DEMO_CREDENTIALS,
  type Emulator,
  type EmulatorOptions,
} from '../../src/emulator/emulator.js';
import { Credentials } from '../../src/huawei/credentials.js';
import type { CredentialProvider } from '../../src/huawei/credential-provider.js';
import { configSchema } from '../../src/config/config.js';
import {
  buildProducerOptions,
  createApp,
  startWorker,
  type StartWorkerOverrides,
  type WorkerService,
} from '../../src/app.js';
import type { RedisClient } from '../../src/queue/redis-connection.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import type { CleanupWorker } from '../../src/queue/worker.js';
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
  /** A pool started as the `worker` command starts one; schedules off unless asked. */
  startWorker(overrides?: StartWorkerOverrides): Promise<CleanupWorker>;
  /** Project and instance ids of the seeded inventory. */
  projectId: string;
  instanceId: string;
  close(): Promise<void>;
}

export async function createHarness(
  label: string,
  emulatorOptions: EmulatorOptions = {},
  options: { logLevel?: 'info' | 'debug' } = {},
): Promise<Harness> {
  const prefix = uniquePrefix(label);
  const emulator = await startEmulator({ rateLimitPerSecond: 0, ...emulatorOptions });
  const logs = captureLogger(options.logLevel ?? 'info');
  const config = configSchema.parse({
    REDIS_URL,
    CLEANUP_PREFIX: prefix,
    DCS_ENDPOINT: emulator.url,
    DCS_HEADERS_TIMEOUT_MS: '2000',
    DCS_BODY_TIMEOUT_MS: '2000',
    WORKER_CONCURRENCY: '8',
    WORKER_RATE_LIMIT: '0',
    WORKER_PROBE_INTERVAL_MS: '100',
    WORKER_SHUTDOWN_TIMEOUT_SEC: '2',
  });
  const app = createApp(config, { role: 'worker', logger: logs.logger });
  const { connection } = app;
  const producer = createProducer({
    ...buildProducerOptions(config, connection),
    attempts: FAST_POLICY.attempts,
  });
  const queue = openQueue(connection, prefix);
  const metrics = createMetrics({ processMetrics: false });
  let credentials = new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk);
  // Read on every signed call, so a test can swap the key the pools sign with.
  const swappable: CredentialProvider = {
    current: () => credentials,
    fresh: () => Promise.resolve(credentials),
    renewAfterRejection: () => Promise.resolve(undefined),
  };
  const services: WorkerService[] = [];
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
    async startWorker(overrides = {}) {
      const service = await startWorker(app, {
        credentials: swappable,
        metrics,
        policy: FAST_POLICY,
        schedules: false,
        ...overrides,
      });
      services.push(service);
      return service.pool;
    },
    async close() {
      for (const s of services) await s.close();
      await producer.close();
      await queue.close();
      await app.close();
      await emulator.close();
      await deletePrefix(prefix);
    },
  };
}
