/**
 * Is the HTTP API the bottleneck of enqueueing? Enqueues the same tasks through POST /v1/deletions
 * (batches over one real keep-alive socket, undici) and straight through producer.enqueueMany (same
 * batches, same process, same Redis), rounds interleaved, each round under a fresh prefix that is
 * deleted after. Reports tasks/s per arm (median of the rounds) and the API/raw ratio.
 *
 *   npm run build && node bench/api-enqueue.js [--tasks 20000] [--batch 500] [--rounds 3]
 *
 * Self-contained (imports ../dist); talks to Redis at $REDIS_URL (default redis://127.0.0.1:6379).
 */
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { Redis } from 'ioredis';
import { createApp } from '../dist/app.js';
import { configSchema } from '../dist/config/config.js';
import { createApi } from '../dist/api/create-api.js';
import { createLogger } from '../dist/observability/logger.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
  },
});
const TASKS = Number(values.tasks);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'bench-token-0123456789abcdef';
const logger = createLogger({ level: 'silent' });

/** The tasks of one arm, in request-sized batches; ids differ per round so nothing is a duplicate. */
function buildBatches(tag) {
  const batches = [];
  for (let start = 0; start < TASKS; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(start + BATCH, TASKS); i++) {
      batch.push({
        project_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        instance_id: `bench-${tag}`,
        task_id: i.toString(16).padStart(32, '0'),
      });
    }
    batches.push(batch);
  }
  return batches;
}

function openApp(prefix) {
  return createApp(configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: prefix }), { role: 'api', logger });
}

async function waitReady(app) {
  if (app.connection.status !== 'ready')
    await new Promise((resolve) => app.connection.once('ready', resolve));
}

async function runRaw(prefix) {
  const app = openApp(prefix);
  await waitReady(app);
  const batches = buildBatches(prefix);
  const producer = app.producer();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const batch of batches) await producer.enqueueMany(batch, { source: 'bench' });
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  await app.close();
  return { ms, cpuMs };
}

async function runApi(prefix) {
  const app = openApp(prefix);
  await waitReady(app);
  const api = createApi({
    connection: app.connection,
    prefix,
    producer: app.producer(),
    deadLetters: app.deadLetters(),
    logger,
    auth: { token: TOKEN },
    bullBoard: false,
  });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  const client = new Client(url, { pipelining: 1 });
  const bodies = buildBatches(prefix).map((tasks) => JSON.stringify({ tasks, source: 'bench' }));
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const body of bodies) {
    const res = await client.request({ method: 'POST', path: '/v1/deletions', headers, body });
    const text = await res.body.text();
    if (res.statusCode !== 202)
      throw new Error(`POST /v1/deletions answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  await client.close();
  await api.close();
  await app.close();
  return { ms, cpuMs };
}

async function deletePrefix(prefix) {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

/** CPU time this process spent since `start` (client and server both run here, for the API arm). */
function cpuMsSince(start) {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = { raw: [], api: [] };
const cpuPer1000 = { raw: [], api: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which arm goes first, so a warming Redis favours neither.
  const order = round % 2 === 0 ? ['raw', 'api'] : ['api', 'raw'];
  for (const arm of order) {
    const prefix = `bench-api-enqueue-${process.pid}-${round}-${arm}`;
    try {
      const { ms, cpuMs } = await (arm === 'raw' ? runRaw(prefix) : runApi(prefix));
      results[arm].push((TASKS / ms) * 1000);
      cpuPer1000[arm].push((cpuMs / TASKS) * 1000);
      process.stderr.write(
        `round ${round + 1} ${arm}: ${Math.round((TASKS / ms) * 1000)} tasks/s, ${Math.round((cpuMs / TASKS) * 1000)} ms CPU per 1000 tasks\n`,
      );
    } finally {
      await deletePrefix(prefix);
    }
  }
}
const raw = median(results.raw);
const api = median(results.api);
const summary = {
  tasks: TASKS,
  batch: BATCH,
  rounds: ROUNDS,
  raw_tasks_per_s: Math.round(raw),
  api_tasks_per_s: Math.round(api),
  api_to_raw_ratio: Number((api / raw).toFixed(2)),
  raw_cpu_ms_per_1000: Math.round(median(cpuPer1000.raw)),
  api_cpu_ms_per_1000: Math.round(median(cpuPer1000.api)),
};
process.stdout.write(
  `enqueue ${TASKS} tasks in batches of ${BATCH} (median of ${ROUNDS}): raw producer ${summary.raw_tasks_per_s}/s, ` +
    `API over one socket ${summary.api_tasks_per_s}/s, ratio ${summary.api_to_raw_ratio}; ` +
    `CPU per 1000 tasks ${summary.raw_cpu_ms_per_1000} ms raw, ${summary.api_cpu_ms_per_1000} ms API (client included)\n` +
    `${JSON.stringify(summary)}\n`,
);
