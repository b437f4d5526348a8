/**
 * 5. Memory: one `dcs-cleanup worker` (concurrency 50, logging at info) deletes 100,000 tasks
 * (quick: 20,000) against an emulator answering at once. Its RSS after 10,000 of them and after
 * all of them, each the lowest of three samples taken right after a forced garbage collection
 * (bench/lib/probe.js, on SIGUSR2): no leak means the second is at most 1.2x the first, and both
 * stay under 200 MB.
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

/**
 * Three post-GC samples 300 ms apart; the one with the lowest RSS. V8 and malloc give pages back to
 * the system lazily, so a single reading right after a collection can include freed memory.
 */
async function sampleAfterGc(proc, file) {
  const before = readSamples(file).length;
  for (let n = 1; n <= 3; n++) {
    proc.child.kill('SIGUSR2');
    for (let i = 0; i < 100 && readSamples(file).length < before + n; i++) await sleep(50);
    if (readSamples(file).length < before + n) throw new Error('the memory probe did not answer');
    await sleep(300);
  }
  return readSamples(file)
    .slice(before)
    .reduce((low, s) => (s.rssMb < low.rssMb ? s : low));
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
  const jobs = ctx.quick ? 20_000 : 100_000;
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
    first = { ...(await sampleAfterGc(worker, probe)), rawRssMb: readRssMb(worker.pid).rssMb };
    ctx.log(
      `memory after ${early} jobs: RSS ${first.rssMb.toFixed(1)} MB after GC, heap ${first.heapUsedMb.toFixed(1)} MB`,
    );
    await enqueued;
    await waitForCompleted(ctx.redis, prefix, jobs, ctx.quick ? 120_000 : 600_000);
    last = { ...(await sampleAfterGc(worker, probe)), rawRssMb: readRssMb(worker.pid).rssMb };
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
      note: `heap used ${first.heapUsedMb.toFixed(1)} -> ${last.heapUsedMb.toFixed(1)} MB, heap total ${first.heapTotalMb.toFixed(0)} -> ${last.heapTotalMb.toFixed(0)} MB, external ${first.externalMb.toFixed(1)} -> ${last.externalMb.toFixed(1)} MB; RSS without forced GC ${first.rawRssMb.toFixed(0)} -> ${last.rawRssMb.toFixed(0)} MB${ctx.quick ? '; quick mode: 20,000 jobs instead of 100,000' : ''}`,
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
