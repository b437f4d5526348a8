/**
 * 5. Memory: one `dcs-cleanup worker` (concurrency 50, logging at info) deletes 100,000 tasks
 * (quick: 30,000) against an emulator answering at once. Its RSS after 10,000 of them and after
 * all of them, each sampled right after a forced garbage collection (bench/lib/probe.js, on
 * SIGUSR2): no leak means the second is at most 1.2x the first, and both stay under 200 MB.
 * (RSS still grows during the first few thousand jobs: JIT code, pools, V8's young generation.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { readRssMb, sleep, stopProcess } from '../lib/proc.js';
import { addJobs, createPrefix, deletePrefix, waitForCompleted } from '../lib/queue.js';
import { buildFigure } from '../lib/stats.js';
import { startCliWorker, waitForWorkers } from '../lib/workers.js';

const RSS_LIMIT_MB = 200;
const TASKS_PER_INSTANCE = 10_000;

/** Asks the probe for a post-GC sample and waits for it to land in `file`. */
async function sampleAfterGc(proc, file, count) {
  proc.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const samples = readSamples(file);
    if (samples.length >= count) return samples[count - 1];
    await sleep(50);
  }
  throw new Error('the memory probe did not answer');
}

function readSamples(file) {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((s) => s.kind === 'sample');
  } catch {
    return [];
  }
}

export async function run(ctx) {
  const jobs = ctx.quick ? 30_000 : 100_000;
  const early = 10_000;
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(jobs / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
  });
  const prefix = createPrefix('memory');
  const probe = join(tmpdir(), `dcs-cleanup-bench-memory-${process.pid}.jsonl`);
  const worker = startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: 50, probe });
  let first;
  let last;
  try {
    await waitForWorkers(ctx.redis, prefix, [worker]);
    const enqueued = addJobs(ctx.redis, prefix, listTasks(TASKS_PER_INSTANCE, 0, jobs));
    await waitForCompleted(ctx.redis, prefix, early, 300_000);
    first = { ...(await sampleAfterGc(worker, probe, 1)), rawRssMb: readRssMb(worker.pid).rssMb };
    ctx.log(
      `memory after ${early} jobs: RSS ${first.rssMb.toFixed(1)} MB after GC, heap ${first.heapUsedMb.toFixed(1)} MB`,
    );
    await enqueued;
    await waitForCompleted(ctx.redis, prefix, jobs, ctx.quick ? 120_000 : 600_000);
    last = { ...(await sampleAfterGc(worker, probe, 2)), rawRssMb: readRssMb(worker.pid).rssMb };
    ctx.log(
      `memory after ${jobs} jobs: RSS ${last.rssMb.toFixed(1)} MB after GC, heap ${last.heapUsedMb.toFixed(1)} MB`,
    );
  } finally {
    await stopProcess(worker);
    rmSync(probe, { force: true });
    await deletePrefix(ctx.redis, prefix);
    await emulator.stop();
  }
  return [
    buildFigure({
      id: 'memory.rss_growth',
      title: `Worker RSS after ${jobs} jobs vs after ${early} (after a GC each)`,
      unit: 'MB',
      target: { max: 1.2 },
      rounds: [{ ours: last.rssMb, baseline: first.rssMb }],
      note: `heap used ${first.heapUsedMb.toFixed(1)} -> ${last.heapUsedMb.toFixed(1)} MB; RSS without forced GC ${first.rawRssMb.toFixed(0)} -> ${last.rawRssMb.toFixed(0)} MB${ctx.quick ? '; quick mode: 30,000 jobs instead of 100,000' : ''}`,
    }),
    buildFigure({
      id: 'memory.rss_limit',
      title: `Worker RSS after ${jobs} jobs vs the ${RSS_LIMIT_MB} MB limit`,
      unit: 'MB',
      target: { max: 1 },
      rounds: [{ ours: Math.max(last.rssMb, last.rawRssMb), baseline: RSS_LIMIT_MB }],
    }),
  ];
}
