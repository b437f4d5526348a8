/**
 * 10. Urgent latency (`urgent`): 100,000 bulk jobs waiting (quick 20,000), one worker process busy at
 * its rate limit (--rate-limit 100, concurrency 32, the emulator throttling at 200/s like the
 * gateway), and one urgent deletion a second sent through the HTTP API (`dcs-cleanup serve`, a
 * single task, hence urgent by default): p50 and p99 from the POST's answer to the job's end (BullMQ's
 * finishedOn; the emulator answers at once, so that is the DELETE leaving plus a loopback round
 * trip). Target p99 under 1 s; in first-in first-out order it would be the whole bulk backlog
 * (100,000 / 100 per second = 1,000 s).
 */
import { Job, Queue } from 'bullmq';
import { QUEUE_NAME } from '../../dist/queue/job-contract.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { CLI, readLines, sleep, startNode, stopProcess } from '../lib/proc.js';
import { REDIS_URL, addJobs, createPrefix, deletePrefix } from '../lib/queue.js';
import { median } from '../lib/stats.js';
import { startCliWorker, waitForWorkers } from '../lib/workers.js';

const TASKS_PER_INSTANCE = 2_000;
const RATE = 100;
const GATEWAY_LIMIT = 200;
const CONCURRENCY = 32;

export async function run(ctx) {
  const bulkJobs = ctx.quick ? 20_000 : 100_000;
  const urgentCount = ctx.quick ? 20 : 60;
  const emulator = await startEmulatorProcess({
    tasks: {
      instances: Math.ceil((bulkJobs + urgentCount) / TASKS_PER_INSTANCE),
      tasksPerInstance: TASKS_PER_INSTANCE,
    },
  });
  const prefix = createPrefix('urgent');
  const queue = new Queue(QUEUE_NAME, { connection: ctx.redis, prefix });
  const procs = [];
  const latencies = [];
  let waitingAtEnd = 0;
  try {
    await emulator.setRateLimit(GATEWAY_LIMIT);
    ctx.log(`urgent: enqueueing ${bulkJobs} bulk jobs`);
    await addJobs(ctx.redis, prefix, listTasks(TASKS_PER_INSTANCE, 0, bulkJobs));
    const worker = startCliWorker({
      prefix,
      emulatorUrl: emulator.url,
      concurrency: CONCURRENCY,
      rateLimit: RATE,
    });
    procs.push(worker);
    await waitForWorkers(ctx.redis, prefix, [worker]).catch(() => undefined);
    const api = await startApi(prefix);
    procs.push(api.proc);
    // At full speed: every slot busy waiting for its send time.
    while ((await queue.getCompletedCount()) < 2 * RATE) await sleep(100);

    const urgent = listTasks(TASKS_PER_INSTANCE, bulkJobs, urgentCount);
    const sent = [];
    for (const task of urgent) {
      const tick = sleep(1_000);
      const res = await fetch(`${api.url}/v1/deletions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tasks: [task] }),
      });
      const answeredMs = Date.now();
      if (res.status !== 202) throw new Error(`POST /v1/deletions: ${res.status} ${await res.text()}`);
      const body = await res.json();
      sent.push({ jobId: body.jobs[0].job_id, answeredMs });
      await tick;
    }
    for (const { jobId, answeredMs } of sent) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const job = await Job.fromId(queue, jobId);
        if (job?.finishedOn) {
          latencies.push(job.finishedOn - answeredMs);
          break;
        }
        if (Date.now() > deadline) throw new Error(`urgent job ${jobId} not done within 60 s`);
        await sleep(50);
      }
    }
    waitingAtEnd = await queue.getWaitingCount();
    ctx.log(
      `urgent: p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, ${waitingAtEnd} bulk jobs still waiting`,
    );
  } finally {
    for (const p of procs) await stopProcess(p);
    await queue.close();
    await deletePrefix(ctx.redis, prefix);
    await emulator.stop();
  }
  const p99 = percentile(latencies, 0.99);
  const p50 = percentile(latencies, 0.5);
  return [
    {
      id: 'urgent.p99',
      title: `Urgent deletion through the API behind ${bulkJobs} bulk jobs, worker at ${RATE}/s: p99 POST answer -> job done`,
      unit: 'ms',
      ours: p99,
      baseline: 1_000,
      ratio: p99 / 1_000,
      target: { max: 1 },
      met: p99 < 1_000,
      rounds: [{ ours: p99, baseline: 1_000 }],
      note: `${urgentCount} urgent deletions, one a second; p50 ${p50} ms, median ${median(latencies)} ms, max ${Math.max(...latencies)} ms; ${waitingAtEnd} bulk jobs still waiting at the end`,
    },
    {
      id: 'urgent.p50',
      title: 'Same run: p50',
      unit: 'ms',
      ours: p50,
      baseline: 1_000,
      ratio: p50 / 1_000,
      target: null,
      met: null,
      rounds: [{ ours: p50, baseline: 1_000 }],
      note: null,
    },
  ];
}

/** `dcs-cleanup serve` on a free loopback port, without auth (loopback only). */
async function startApi(prefix) {
  const proc = startNode(CLI, ['serve', '--port', '0', '--insecure-no-auth'], {
    env: { REDIS_URL, CLEANUP_PREFIX: prefix, LOG_LEVEL: 'info' },
    stdout: 'pipe',
  });
  const lines = readLines(proc);
  for (;;) {
    const record = JSON.parse(await lines.next(30_000, 'api'));
    if (record.msg === 'api listening') return { proc, url: `http://127.0.0.1:${record.port}` };
  }
}

/** The nearest-rank percentile of `values` (ms, rounded). */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN);
}
