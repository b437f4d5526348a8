/**
 * 2. Latency-bound throughput: every DELETE answered after 50 ms, concurrency 64, rate limits off.
 * Little's law bounds a worker at concurrency / latency = 1,280 jobs/s; the pipeline should reach
 * 90% of it. Two references run in the same rounds: the plain undici loop at the same concurrency
 * (what the emulator and the machine allow without a queue) and a no-op BullMQ worker whose
 * processor sleeps 50 ms (what BullMQ's own job cycle allows without HTTP). The same rounds give the
 * CPU per job of the three at an equal pace (`latency.cpu_per_job`, reported, no target).
 */
import { startLoopArm, startQueueArm } from '../lib/arms.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { buildFigure, rotate } from '../lib/stats.js';
import { startCliWorker, startNoopWorker } from '../lib/workers.js';

const LATENCY_MS = 50;
const CONCURRENCY = 64;
const BOUND = (CONCURRENCY * 1000) / LATENCY_MS;
const TASKS_PER_INSTANCE = 2_000;

export async function run(ctx) {
  const jobs = ctx.quick ? 1_500 : 12_000;
  const timeoutMs = ctx.quick ? 60_000 : 180_000;
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(jobs / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
    latencyMs: LATENCY_MS,
  });
  const tasks = listTasks(TASKS_PER_INSTANCE, 0, jobs);
  const started = [];
  const rounds = [];
  try {
    const pipeline = await startQueueArm(ctx, {
      label: 'latency-pipeline',
      startWorkers: (prefix) => [
        startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY }),
      ],
    });
    started.push(pipeline);
    const plain = await startLoopArm({
      mode: 'plain',
      url: emulator.url,
      concurrency: CONCURRENCY,
      tasksPerInstance: TASKS_PER_INSTANCE,
    });
    started.push(plain);
    const bullmq = await startQueueArm(ctx, {
      label: 'latency-bullmq',
      startWorkers: (prefix) => [startNoopWorker({ prefix, concurrency: CONCURRENCY, delayMs: LATENCY_MS })],
    });
    started.push(bullmq);
    const arms = {
      pipeline: (count) => pipeline.drain(tasks.slice(0, count), timeoutMs),
      plain: (count) => plain.run(0, count, timeoutMs),
      bullmq: (count) => bullmq.drain(tasks.slice(0, count), timeoutMs),
    };
    await ctx.warmUp(emulator, arms, 500);
    for (let r = 0; r < ctx.rounds; r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        await emulator.reset();
        round[arm] = await arms[arm](jobs);
        ctx.log(
          `latency round ${r + 1} ${arm}: ${round[arm].jobsPerSecond.toFixed(0)} jobs/s (bound ${BOUND})`,
        );
      }
      rounds.push(round);
    }
  } finally {
    for (const arm of started) await arm.stop();
    await emulator.stop();
  }
  return [
    buildFigure({
      id: 'latency.throughput',
      title: `Throughput at ${LATENCY_MS} ms latency, concurrency ${CONCURRENCY}: pipeline vs Little's law bound`,
      unit: 'jobs/s',
      target: { min: 0.9 },
      rounds: rounds.map((r) => ({ ours: r.pipeline.jobsPerSecond, baseline: BOUND })),
      note: `${jobs} jobs a round; bound = ${CONCURRENCY} / ${LATENCY_MS} ms = ${BOUND} jobs/s`,
    }),
    buildFigure({
      id: 'latency.plain_loop',
      title: 'Throughput of the plain undici loop (no queue), same latency and concurrency, vs the bound',
      unit: 'jobs/s',
      rounds: rounds.map((r) => ({ ours: r.plain.jobsPerSecond, baseline: BOUND })),
    }),
    buildFigure({
      id: 'latency.bullmq_sleep',
      title:
        'Throughput of a no-op BullMQ worker sleeping 50 ms a job (no HTTP), same concurrency, vs the bound',
      unit: 'jobs/s',
      rounds: rounds.map((r) => ({ ours: r.bullmq.jobsPerSecond, baseline: BOUND })),
    }),
    // overhead.cpu_per_job compares the pipeline with baselines running 3-5 times faster, which
    // handle several answers per wake-up; here all three keep the same pace (64 jobs per 50 ms).
    buildFigure({
      id: 'latency.cpu_per_job',
      title: `CPU per job at the same pace (${LATENCY_MS} ms latency): pipeline vs no-op BullMQ sleeping + plain loop`,
      unit: 'us/job',
      rounds: rounds.map((r) => ({
        ours: r.pipeline.cpuUsPerJob,
        baseline: r.bullmq.cpuUsPerJob + r.plain.cpuUsPerJob,
      })),
    }),
  ];
}
