/**
 * 1. Per-job overhead: 20,000 deletions (quick: 3,000) against an emulator answering at once,
 * concurrency 50. The pipeline (`dcs-cleanup worker`, logging at info) against two baselines measured
 * in the same rounds: BullMQ with a no-op processor (same queue, jobs and worker settings) and a plain
 * loop of signed DELETEs with undici and a concurrency limiter. Figure: the worker process's CPU
 * (user + sys) per job, against the sum of the two baselines' CPU per job.
 */
import { startLoopArm, startQueueArm } from '../lib/arms.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { buildFigure, rotate } from '../lib/stats.js';
import { startCliWorker, startNoopWorker } from '../lib/workers.js';

const CONCURRENCY = 50;
const TASKS_PER_INSTANCE = 2_000;

export async function run(ctx) {
  const jobs = ctx.quick ? 3_000 : 20_000;
  const timeoutMs = ctx.quick ? 60_000 : 180_000;
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(jobs / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
  });
  const tasks = listTasks(TASKS_PER_INSTANCE, 0, jobs);
  const started = [];
  const rounds = [];
  try {
    const worker = (logLevel) => (prefix) => [
      startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY, logLevel }),
    ];
    const pipeline = await startQueueArm(ctx, { label: 'overhead-pipeline', startWorkers: worker('info') });
    started.push(pipeline);
    const noop = await startQueueArm(ctx, {
      label: 'overhead-noop',
      startWorkers: (prefix) => [startNoopWorker({ prefix, concurrency: CONCURRENCY })],
    });
    started.push(noop);
    const plain = await startLoopArm({
      mode: 'plain',
      url: emulator.url,
      concurrency: CONCURRENCY,
      tasksPerInstance: TASKS_PER_INSTANCE,
    });
    started.push(plain);
    const arms = {
      pipeline: (count) => pipeline.drain(tasks.slice(0, count), timeoutMs),
      noop: (count) => noop.drain(tasks.slice(0, count), timeoutMs),
      plain: (count) => plain.run(0, count, timeoutMs),
    };
    if (!ctx.quick) {
      const silent = await startQueueArm(ctx, { label: 'overhead-silent', startWorkers: worker('silent') });
      started.push(silent);
      arms.silent = (count) => silent.drain(tasks.slice(0, count), timeoutMs);
    }
    await ctx.warmUp(emulator, arms, Math.min(jobs, 1_000));
    for (let r = 0; r < ctx.rounds; r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        await emulator.reset();
        round[arm] = await arms[arm](jobs);
        ctx.log(
          `overhead round ${r + 1} ${arm}: ${round[arm].cpuUsPerJob.toFixed(0)} us CPU/job, ${round[arm].jobsPerSecond.toFixed(0)} jobs/s`,
        );
      }
      rounds.push(round);
    }
  } finally {
    for (const arm of started) await arm.stop();
    await emulator.stop();
  }
  return buildFigures(rounds, jobs);
}

function buildFigures(rounds, jobs) {
  const figures = [
    buildFigure({
      id: 'overhead.cpu_per_job',
      title: 'CPU per job: pipeline vs (no-op BullMQ + plain signed DELETE loop)',
      unit: 'us/job',
      target: { max: 1.25 },
      rounds: rounds.map((r) => ({
        ours: r.pipeline.cpuUsPerJob,
        baseline: r.noop.cpuUsPerJob + r.plain.cpuUsPerJob,
      })),
      note: `${jobs} jobs a round, concurrency ${CONCURRENCY}, worker logging at info to /dev/null; baseline = no-op BullMQ worker + plain undici loop`,
    }),
    buildFigure({
      id: 'overhead.cpu_noop_bullmq',
      title: 'CPU per job of the no-op BullMQ worker (part of the baseline)',
      unit: 'us/job',
      rounds: rounds.map((r) => ({ ours: r.noop.cpuUsPerJob, baseline: r.noop.cpuUsPerJob })),
    }),
    buildFigure({
      id: 'overhead.cpu_plain_loop',
      title: 'CPU per job of the plain undici loop (part of the baseline)',
      unit: 'us/job',
      rounds: rounds.map((r) => ({ ours: r.plain.cpuUsPerJob, baseline: r.plain.cpuUsPerJob })),
    }),
    buildFigure({
      id: 'overhead.throughput',
      title: 'Throughput with an instant emulator (CPU-bound): pipeline vs plain loop',
      unit: 'jobs/s',
      rounds: rounds.map((r) => ({ ours: r.pipeline.jobsPerSecond, baseline: r.plain.jobsPerSecond })),
    }),
  ];
  if (rounds[0].silent !== undefined) {
    figures.push(
      buildFigure({
        id: 'overhead.cpu_logging',
        title: 'CPU per job: pipeline logging at info vs silent (the cost of one record per job)',
        unit: 'us/job',
        rounds: rounds.map((r) => ({ ours: r.pipeline.cpuUsPerJob, baseline: r.silent.cpuUsPerJob })),
      }),
    );
  }
  return figures;
}
