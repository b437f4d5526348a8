/**
 * 8. Redis Cluster: what one queue on one master sustains through the real worker, and what a
 * second shard adds. A private standalone redis-server and a private cluster (3 masters, 3
 * replicas) run side by side; every DELETE is answered at once, rate limits off, so Redis and the
 * workers' CPU are the bound. Arms, rounds interleaved:
 * - `standalone`: two worker processes on one queue of the standalone server;
 * - `cluster`: the same on one queue of the cluster (prefix with a hash tag: one slot, one master);
 * - `shards`: two queues with different hash tags on two different masters, one worker process
 *   each, the batch split between them (what sharding by account or project looks like).
 * Figures: cluster vs standalone, and two shards vs one queue on the cluster.
 */
import { startQueueArm } from '../lib/arms.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { hasRedisServer, startPrivateRedis } from '../lib/private-redis.js';
import { readCpuMs } from '../lib/proc.js';
import { buildFigure, rotate } from '../lib/stats.js';
import { startCliWorker } from '../lib/workers.js';

const CONCURRENCY = 32;
const TASKS_PER_INSTANCE = 2_000;

/** Two hash tags whose slots live on different masters. */
async function pickShardTags(servers) {
  const first = '{dcs-bench-a}';
  const firstMaster = await servers.masterOf(first);
  for (let i = 0; i < 100; i++) {
    const tag = `{dcs-bench-b${i}}`;
    if ((await servers.masterOf(tag)) !== firstMaster) return [first, tag];
  }
  throw new Error('no second hash tag on another master');
}

export async function run(ctx) {
  if (!hasRedisServer()) {
    ctx.log('cluster: skipped, no redis-server on the PATH');
    return [];
  }
  const jobs = ctx.quick ? 2_000 : 10_000;
  const timeoutMs = ctx.quick ? 60_000 : 180_000;
  const servers = await startPrivateRedis();
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(jobs / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
    latencyMs: 0,
  });
  const tasks = listTasks(TASKS_PER_INSTANCE, 0, jobs);
  const connections = [];
  const connect = (port) => {
    const redis = servers.plain(port);
    connections.push(redis);
    return redis;
  };
  const clusterEnv = { REDIS_CLUSTER_NODES: servers.clusterNodes };
  const worker = (redisEnv) => (prefix) =>
    startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY, redisEnv });
  const started = [];
  const rounds = [];
  try {
    const standalonePort = Number(new URL(servers.standaloneUrl).port);
    const standalone = await startQueueArm(ctx, {
      label: 'redis-standalone',
      redis: connect(standalonePort),
      startWorkers: (p) => [
        worker({ REDIS_URL: servers.standaloneUrl })(p),
        worker({ REDIS_URL: servers.standaloneUrl })(p),
      ],
    });
    started.push(standalone);
    const one = '{dcs-bench-one}';
    const oneMaster = await servers.masterOf(one);
    const cluster = await startQueueArm(ctx, {
      label: 'redis-cluster',
      prefix: one,
      redis: connect(oneMaster),
      startWorkers: (p) => [worker(clusterEnv)(p), worker(clusterEnv)(p)],
    });
    started.push(cluster);
    const shards = [];
    for (const tag of await pickShardTags(servers)) {
      const arm = await startQueueArm(ctx, {
        label: `redis-shard`,
        prefix: tag,
        redis: connect(await servers.masterOf(tag)),
        startWorkers: (p) => [worker(clusterEnv)(p)],
      });
      started.push(arm);
      shards.push(arm);
    }
    const arms = {
      standalone: (count) => standalone.drain(tasks.slice(0, count), timeoutMs),
      cluster: async (count) => {
        // The master's own CPU per job: what bounds one queue once workers are added freely.
        const pid = servers.pidOf(oneMaster);
        const before = readCpuMs(pid);
        const result = await cluster.drain(tasks.slice(0, count), timeoutMs);
        return { ...result, masterCpuUsPerJob: ((readCpuMs(pid) - before) * 1000) / count };
      },
      shards: async (count) => {
        const half = Math.floor(count / 2);
        const [a, b] = await Promise.all([
          shards[0].drain(tasks.slice(0, half), timeoutMs),
          shards[1].drain(tasks.slice(half, count), timeoutMs),
        ]);
        const wallMs = Math.max(a.endedMs, b.endedMs) - Math.min(a.startedMs, b.startedMs);
        return { wallMs, jobsPerSecond: (count * 1000) / wallMs };
      },
    };
    await ctx.warmUp(emulator, arms, 500);
    for (let r = 0; r < ctx.rounds; r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        await emulator.reset();
        round[arm] = await arms[arm](jobs);
        ctx.log(`cluster round ${r + 1} ${arm}: ${round[arm].jobsPerSecond.toFixed(0)} jobs/s`);
      }
      rounds.push(round);
    }
  } finally {
    for (const arm of started) await arm.stop();
    for (const c of connections) c.disconnect();
    await emulator.stop();
    servers.stop();
  }
  const note = `${jobs} jobs a round, 2 worker processes x ${CONCURRENCY}, DELETEs answered at once`;
  const masterCpu = rounds.map((r) => r.cluster.masterCpuUsPerJob).sort((a, b) => a - b);
  const masterUs = masterCpu[Math.floor(masterCpu.length / 2)];
  ctx.log(`cluster: the slot's master spends ${masterUs.toFixed(0)} us CPU per job (median)`);
  return [
    buildFigure({
      id: 'cluster.one_queue_vs_standalone',
      title: 'One queue: jobs/s on Redis Cluster (one slot, one master) vs a standalone Redis',
      unit: 'jobs/s',
      rounds: rounds.map((r) => ({ ours: r.cluster.jobsPerSecond, baseline: r.standalone.jobsPerSecond })),
      note: `${note}; the slot's master spent ${masterUs.toFixed(0)} us of CPU per job (median), so one master saturates near ${Math.round(1e6 / masterUs)} jobs/s`,
    }),
    buildFigure({
      id: 'cluster.two_shards_vs_one',
      title: 'Cluster: two queues (hash tags on two masters, a worker each) vs one queue (two workers)',
      unit: 'jobs/s',
      rounds: rounds.map((r) => ({ ours: r.shards.jobsPerSecond, baseline: r.cluster.jobsPerSecond })),
      note,
    }),
  ];
}
