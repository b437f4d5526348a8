/**
 * The demo: the whole product on an embedded default. An emulator with a seeded inventory and
 * injected faults, a real Redis (REDIS_URL, or a private redis-server), the producer, the worker
 * pool, the dead letters; then a summary. It uses its own key prefix and removes its keys after.
 */
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startEmulator, DEMO_CREDENTIALS } from '../emulator/emulator.js';
import { Credentials } from '../huawei/credentials.js';
import { describeRedis } from '../queue/redis-connection.js';
import { redisModeOf } from '../config/redis-settings.js';
import { createProducer } from '../queue/producer.js';
import { buildProducerOptions, createApp, startWorker, type App, type WorkerService } from '../app.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { CleanupError } from '../errors.js';
import { maskUrlPassword, type Config } from '../config/config.js';
import { redisAnswers, startPrivateRedis, type PrivateRedis } from './private-redis.js';

/** Faster retries than production's, so a demo with injected faults ends in seconds. */
const DEMO_POLICY = {
  inProcessBaseMs: 50,
  inProcessCapMs: 500,
  backoffBaseMs: 200,
  backoffCapMs: 2_000,
  throttleMinMs: 200,
  throttleMaxMs: 500,
};

export interface DemoOptions {
  /**
   * The configuration: where Redis is (any mode; in standalone mode a private redis-server stands in
   * when none answers) and the rest; the demo sets its own prefix, endpoint and worker settings.
   */
  config: Config;
  instances: number;
  tasksPerInstance: number;
  /** Share of DELETEs answered with an injected 5xx. */
  faultRate: number;
  /** Where progress and the summary go. */
  out: NodeJS.WritableStream;
}

export interface DemoSummary {
  selected: number;
  deleted: number;
  already_gone: number;
  retried: number;
  throttled: number;
  dead_lettered: number;
  seconds: number;
  redis: string;
  log_file: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  const say = (line: string): void => void options.out.write(`${line}\n`);
  let privateRedis: PrivateRedis | undefined;
  let redisUrl = options.config.REDIS_URL;
  // What the demo prints: REDIS_URL may carry a password.
  const shownUrl = (): string => maskUrlPassword(redisUrl);
  const standalone = redisModeOf(options.config) === 'standalone';
  if (standalone && !(await redisAnswers(redisUrl))) {
    say(`no Redis answers at ${shownUrl()}; starting a private redis-server for the demo...`);
    try {
      privateRedis = await startPrivateRedis();
    } catch (err) {
      throw new CleanupError(
        'REDIS_UNAVAILABLE',
        `no Redis answers at ${shownUrl()} and redis-server could not be started (${(err as Error).message}).\n` +
          '  Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or\n' +
          '  run one in Docker (docker run -p 6379:6379 redis:7), or point REDIS_URL at yours.',
      );
    }
    redisUrl = privateRedis.url;
  }

  const logFile = join(tmpdir(), `dcs-cleanup-demo-${Date.now()}.log`);
  const logStream = createWriteStream(logFile);
  const logger = createLogger({ level: 'info', destination: logStream });
  const metrics = createMetrics({ processMetrics: false });
  // A hash tag: on a cluster every key of the demo's queues lives in one slot.
  const prefix = `{dcs-cleanup-demo-${process.pid}-${Date.now().toString(36)}}`;
  const emulator = await startEmulator({
    seed: { instances: options.instances, tasksPerInstance: options.tasksPerInstance, seed: 7 },
    faults: {
      statusRates: { 500: options.faultRate / 2, 503: options.faultRate / 2 },
      throttleRate: 0.01,
      latencyMs: 5,
      jitterMs: 20,
      seed: 7,
    },
    rateLimitPerSecond: 200,
  });
  // The worker the `worker` command runs (src/app/start-worker.ts), on the demo's own settings.
  const config: Config = {
    ...options.config,
    REDIS_URL: redisUrl,
    CLEANUP_PREFIX: prefix,
    DCS_ENDPOINT: emulator.url,
    WORKER_CONCURRENCY: 32,
    WORKER_RATE_LIMIT: 0,
    METRICS_PORT: 0,
  };
  const app: App = createApp(config, { role: 'worker', logger });
  const producer = createProducer({ ...buildProducerOptions(config, app.connection), attempts: 4 });
  let worker: WorkerService | undefined;
  try {
    const project = emulator.inventory().projects[0]!;
    say(`emulator at ${emulator.url}: project ${project.project_id}, ${project.instances.length} instances`);
    const finished = emulator.remainingTasks().filter((t) => t.status === 'SUCCESS' || t.status === 'FAILED');
    const tasks = finished.map((t) => ({
      project_id: t.project_id,
      instance_id: t.instance_id,
      task_id: t.id,
    }));
    // A few tasks someone else already deleted, and two DCS will refuse: already_gone and dead letters.
    const instanceId = project.instances[0]!.instance_id;
    for (let i = 0; i < 3; i++)
      tasks.push({
        project_id: project.project_id,
        instance_id: instanceId,
        task_id: `00000000000000000000000000000${i}ff`,
      });
    for (const t of tasks.slice(0, 2))
      emulator.scriptTask(t.task_id, [{ status: 400, errorCode: '111400070' }]);
    const enqueued = await producer.enqueueMany(tasks, {
      source: 'demo',
      reason: 'demo',
      collectJobs: false,
    });
    say(
      `enqueued ${enqueued.enqueued} deletions (${finished.length} finished tasks of ${emulator.remainingTasks().length}, plus 3 already gone)`,
    );
    say(
      `injected faults: ${Math.round(options.faultRate * 100)}% 5xx, 1% 429, 5-25 ms latency; 2 tasks DCS refuses (400)`,
    );

    worker = await startWorker(app, {
      credentials: new Credentials(DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk),
      metrics,
      policy: DEMO_POLICY,
      // The demo's prefix has no schedules, and every key it makes is removed after.
      schedules: false,
    });
    const { pool } = worker;
    const progress = setInterval(() => {
      void pool.queue.getJobCounts('wait', 'active', 'delayed', 'completed').then((c) => {
        say(`  waiting ${c.wait}, active ${c.active}, delayed ${c.delayed}, done ${c.completed}`);
      });
    }, 1_000);
    await pool.waitUntilIdle();
    clearInterval(progress);
    await worker.close();

    const count = async (name: string, label: Record<string, string> = {}): Promise<number> => {
      const m = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
      return m
        .filter((v) => Object.entries(label).every(([k, val]) => v.labels[k] === val))
        .reduce((s, v) => s + v.value, 0);
    };
    const summary: DemoSummary = {
      selected: tasks.length,
      deleted: await count('dcs_cleanup_deletions_total', { outcome: 'deleted' }),
      already_gone: await count('dcs_cleanup_deletions_total', { outcome: 'already_gone' }),
      retried: await count('dcs_cleanup_retries_total'),
      throttled: await count('dcs_cleanup_throttle_waits_total'),
      dead_lettered: await count('dcs_cleanup_deletions_total', { outcome: 'dead_lettered' }),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      redis: privateRedis
        ? `${shownUrl()} (private, stopped)`
        : standalone
          ? shownUrl()
          : describeRedis(app.connection),
      log_file: logFile,
    };
    const dead = await pool.deadLetters.list();
    say('');
    say(
      `deleted ${summary.deleted}, already gone ${summary.already_gone}, retries ${summary.retried}, throttle waits ${summary.throttled}, dead-lettered ${summary.dead_lettered}, in ${summary.seconds} s`,
    );
    for (const d of dead)
      say(
        `  dead letter ${d.id}: ${d.reason} (HTTP ${d.http_status}, ${d.error_code}, request ${d.request_id})`,
      );
    say(
      `the emulator has ${emulator.remainingTasks().filter((t) => t.status === 'SUCCESS' || t.status === 'FAILED').length} finished tasks left; unfinished ones are never selected`,
    );
    say(`one JSON log record per outcome: ${logFile}`);
    await pool.deadLetters.queue.obliterate({ force: true });
    await pool.queue.obliterate({ force: true });
    return summary;
  } finally {
    await worker?.close();
    await producer.close();
    await app.close();
    await emulator.close();
    logger.flush();
    logStream.end();
    await once(logStream, 'close');
    await privateRedis?.stop();
  }
}
