/**
 * The two kinds of measured sides. Each is a long-lived process started once per scenario and fed
 * batches, so every batch finds it warm, and batches of the sides compared alternate within
 * seconds of each other (A B A B...), which is what keeps ratios steady on a noisy machine.
 */
import { fileURLToPath } from 'node:url';
import { openQueue } from '../../dist/queue/open-queue.js';
import { readCpuMs, readLines, sampleCpu, sleep, startNode, stopProcess } from './proc.js';
import { addJobs, createPrefix, deletePrefix, readWindow, waitForCompleted } from './queue.js';
import { waitForWorkers } from './workers.js';

const DELETE_LOOP = fileURLToPath(new URL('./delete-loop.js', import.meta.url));

/**
 * Worker process(es) on their own queue prefix. `drain(tasks)` adds the tasks and measures the
 * workers emptying the queue: throughput from BullMQ's timestamps (first start to last finish) and
 * the processes' CPU inside that window, interpolated from /proc samples taken every 20 ms.
 */
export async function startQueueArm(ctx, { label, startWorkers, redis = ctx.redis, prefix: given }) {
  // `redis`: where the orchestrator reads the queue (a private server, or the master of a cluster
  // queue's slot); `prefix`: a fixed one (a cluster hash tag) instead of a fresh one.
  const prefix = given ?? createPrefix(label);
  ctx = { ...ctx, redis };
  const queue = openQueue(ctx.redis, prefix);
  const procs = startWorkers(prefix);
  try {
    await waitForWorkers(ctx.redis, prefix, procs);
  } catch (err) {
    await Promise.all(procs.map((p) => stopProcess(p)));
    throw err;
  }
  return {
    procs,
    async drain(tasks, timeoutMs) {
      // The jobs of the previous batch are removed, or the same job ids would count as duplicates;
      // 5,000 a call, so no single script holds the shared Redis for long.
      for (let i = 0; i < 1_000 && (await queue.clean(0, 5_000, 'completed')).length === 5_000; i++);
      const samplers = procs.map((p) => sampleCpu(p.pid));
      try {
        await addJobs(ctx.redis, prefix, tasks);
        await waitForCompleted(ctx.redis, prefix, tasks.length, timeoutMs, () => {
          for (const p of procs) {
            if (p.child.exitCode !== null)
              throw new Error(`${label}: worker exited ${p.child.exitCode}: ${p.stderr()}`);
          }
        });
        const window = await readWindow(ctx.redis, prefix, tasks.length);
        await sleep(60); // one more CPU sample after the last finish
        const cpuMs = samplers.reduce((sum, s) => sum + s.cpuBetween(window.startedMs, window.endedMs), 0);
        return { ...window, cpuUsPerJob: (cpuMs * 1000) / tasks.length };
      } finally {
        for (const s of samplers) s.stop();
      }
    },
    async stop() {
      await Promise.all(procs.map((p) => stopProcess(p)));
      await queue.close();
      await deletePrefix(ctx.redis, prefix);
    },
  };
}

/**
 * bench/lib/delete-loop.js in `mode` (plain, ours or sdk). `run(from, count)` sends the DELETEs of
 * inventory tasks from..from+count and measures the process's CPU between the request and its answer.
 */
export async function startLoopArm({ mode, url, concurrency, tasksPerInstance }) {
  const proc = startNode(DELETE_LOOP, [], {
    stdout: 'pipe',
    stdin: 'pipe',
    env: { BENCH_LOOP: JSON.stringify({ mode, url, concurrency, tasksPerInstance }) },
  });
  const lines = readLines(proc);
  try {
    await lines.next(60_000, `${mode} loop`);
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return {
    procs: [proc],
    async run(from, count, timeoutMs) {
      const cpuBefore = readCpuMs(proc.pid);
      proc.child.stdin.write(`${from} ${count}\n`);
      const result = JSON.parse(await lines.next(timeoutMs, `${mode} loop`));
      const cpuMs = readCpuMs(proc.pid) - cpuBefore;
      const ok = (result.statuses['200'] ?? 0) + (result.statuses['204'] ?? 0);
      if (ok !== count)
        throw new Error(`${mode} loop: ${JSON.stringify(result.statuses)} instead of ${count} successes`);
      return {
        wallMs: result.wallMs,
        jobsPerSecond: (count * 1000) / result.wallMs,
        cpuUsPerJob: (cpuMs * 1000) / count,
      };
    },
    async stop() {
      proc.child.stdin.end();
      await stopProcess(proc);
    },
  };
}
