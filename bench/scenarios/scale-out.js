/**
 * 3. Scale-out: every DELETE answered after 50 ms, rate limits off; two worker processes at
 * concurrency 32 each against one at concurrency 32, same jobs, rounds interleaved. Two should
 * deliver at least 1.8 times the throughput of one (each is bound at 640 jobs/s by Little's law).
 */
import { startQueueArm } from '../lib/arms.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { buildFigure, rotate } from '../lib/stats.js';
import { startCliWorker } from '../lib/workers.js';

const LATENCY_MS = 50;
const CONCURRENCY = 32;
const TASKS_PER_INSTANCE = 2_000;

export async function run(ctx) {
  const jobs = ctx.quick ? 1_200 : 10_000;
  const timeoutMs = ctx.quick ? 60_000 : 180_000;
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(jobs / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
    latencyMs: LATENCY_MS,
  });
  const tasks = listTasks(TASKS_PER_INSTANCE, 0, jobs);
  const worker = (prefix) => startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY });
  const started = [];
  const rounds = [];
  try {
    const one = await startQueueArm(ctx, { label: 'scale-one', startWorkers: (prefix) => [worker(prefix)] });
    started.push(one);
    const two = await startQueueArm(ctx, {
      label: 'scale-two',
      startWorkers: (prefix) => [worker(prefix), worker(prefix)],
    });
    started.push(two);
    const arms = {
      one: (count) => one.drain(tasks.slice(0, count), timeoutMs),
      two: (count) => two.drain(tasks.slice(0, count), timeoutMs),
    };
    await ctx.warmUp(emulator, arms, 500);
    for (let r = 0; r < ctx.rounds; r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        await emulator.reset();
        round[arm] = await arms[arm](jobs);
        ctx.log(`scale-out round ${r + 1} ${arm}: ${round[arm].jobsPerSecond.toFixed(0)} jobs/s`);
      }
      rounds.push(round);
    }
  } finally {
    for (const arm of started) await arm.stop();
    await emulator.stop();
  }
  return [
    buildFigure({
      id: 'scale_out.two_vs_one',
      title: `Throughput at ${LATENCY_MS} ms latency: two worker processes x ${CONCURRENCY} vs one x ${CONCURRENCY}`,
      unit: 'jobs/s',
      target: { min: 1.8 },
      rounds: rounds.map((r) => ({ ours: r.two.jobsPerSecond, baseline: r.one.jobsPerSecond })),
      note: `${jobs} jobs a round; each process is bound at ${(CONCURRENCY * 1000) / LATENCY_MS} jobs/s`,
    }),
  ];
}
