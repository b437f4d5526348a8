/**
 * 9. Rate utilisation (`rate`): the emulator throttles like Huawei's gateway (a sliding one-second
 * window per AK and API, 429 APIGW.0308 without Retry-After), and the worker is measured against
 * that limit:
 *   - `rate.known_limit`: the limit given to the worker (`--rate-limit 100` for a gateway at
 *     L = 100/s): drain rate / L, target >= 0.97; `rate.known_limit_under` (reported): the worker 2%
 *     under it (`--rate-limit 98`), which trades a slot in 50 for fewer late-send 429s;
 *   - `rate.unknown_limit`: the emulator at 120/s, the worker on `--rate-limit auto` from a fresh
 *     state (slow start included): drain rate / 120, target >= 0.9, with the share of DELETEs throttled
 *     (`rate.unknown_limit_throttled`, target <= 2%), over a run of at least 60 s (quick: 30 s).
 * The baseline of each ratio is the gateway's limit in the same run; drain rate from BullMQ's own
 * timestamps (first job started to last finished).
 */
import { startQueueArm } from '../lib/arms.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { listTasks } from '../lib/inventory.js';
import { buildFigure } from '../lib/stats.js';
import { startCliWorker } from '../lib/workers.js';

const TASKS_PER_INSTANCE = 2_000;
const KNOWN_LIMIT = 100;
/** 2% under the limit: the reported variant. */
const KNOWN_SETTING = 98;
const UNKNOWN_LIMIT = 120;
const CONCURRENCY = 32;

export async function run(ctx) {
  const knownJobs = ctx.quick ? 1_500 : 6_000;
  const unknownSeconds = ctx.quick ? 30 : 65;
  const unknownJobs = UNKNOWN_LIMIT * unknownSeconds;
  const total = Math.max(knownJobs, unknownJobs);
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(total / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
  });
  const known = [];
  const exact = [];
  const unknown = [];
  try {
    await emulator.setRateLimit(KNOWN_LIMIT);
    for (const [setting, results] of [
      [KNOWN_SETTING, known],
      [KNOWN_LIMIT, exact],
    ]) {
      const arm = await startQueueArm(ctx, {
        label: `rate-known-${setting}`,
        startWorkers: (prefix) => [
          startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY, rateLimit: setting }),
        ],
      });
      try {
        const rounds = ctx.quick ? 1 : 2;
        for (let r = 0; r < rounds; r++) {
          await emulator.reset();
          const result = await arm.drain(listTasks(TASKS_PER_INSTANCE, 0, knownJobs), knownJobs * 50);
          const throttled = await throttledShare(emulator);
          results.push({ ...result, throttled });
          ctx.log(
            `rate known round ${r + 1}, --rate-limit ${setting}: ${result.jobsPerSecond.toFixed(1)} jobs/s at a limit of ${KNOWN_LIMIT}, ${(throttled * 100).toFixed(2)}% throttled`,
          );
        }
      } finally {
        await arm.stop();
      }
    }

    await emulator.setRateLimit(UNKNOWN_LIMIT);
    await emulator.reset();
    // A fresh prefix: the automatic rate starts from nothing (WORKER_RATE_AUTO_START, 50/s).
    const auto = await startQueueArm(ctx, {
      label: 'rate-auto',
      startWorkers: (prefix) => [
        startCliWorker({ prefix, emulatorUrl: emulator.url, concurrency: CONCURRENCY, rateLimit: 'auto' }),
      ],
    });
    try {
      const result = await auto.drain(listTasks(TASKS_PER_INSTANCE, 0, unknownJobs), unknownJobs * 50);
      const throttled = await throttledShare(emulator);
      unknown.push({ ...result, throttled });
      ctx.log(
        `rate auto: ${result.jobsPerSecond.toFixed(1)} jobs/s at an untold limit of ${UNKNOWN_LIMIT} over ${(result.wallMs / 1000).toFixed(0)} s, ${(throttled * 100).toFixed(2)}% throttled`,
      );
    } finally {
      await auto.stop();
    }
  } finally {
    await emulator.stop();
  }
  return [
    buildFigure({
      id: 'rate.known_limit_under',
      title: `Drain rate with the worker 2% under the known limit (--rate-limit ${KNOWN_SETTING}, gateway ${KNOWN_LIMIT}/s sliding) vs the limit`,
      unit: 'jobs/s',
      rounds: known.map((r) => ({ ours: r.jobsPerSecond, baseline: KNOWN_LIMIT })),
      note: `${knownJobs} jobs a round, concurrency ${CONCURRENCY}; throttled ${known.map((r) => `${(r.throttled * 100).toFixed(2)}%`).join(', ')}`,
    }),
    buildFigure({
      id: 'rate.known_limit',
      title: `Drain rate with the limit given (--rate-limit ${KNOWN_LIMIT}, gateway ${KNOWN_LIMIT}/s sliding) vs the limit`,
      unit: 'jobs/s',
      target: { min: 0.97 },
      rounds: exact.map((r) => ({ ours: r.jobsPerSecond, baseline: KNOWN_LIMIT })),
      note: `throttled ${exact.map((r) => `${(r.throttled * 100).toFixed(2)}%`).join(', ')}`,
    }),
    buildFigure({
      id: 'rate.unknown_limit',
      title: `Drain rate on --rate-limit auto from a fresh state vs an untold gateway limit of ${UNKNOWN_LIMIT}/s`,
      unit: 'jobs/s',
      target: { min: 0.9 },
      rounds: unknown.map((r) => ({ ours: r.jobsPerSecond, baseline: UNKNOWN_LIMIT })),
      note: `${unknownJobs} jobs (${unknown.map((r) => (r.wallMs / 1000).toFixed(0)).join(', ')} s), slow start from 50/s included`,
    }),
    buildFigure({
      id: 'rate.unknown_limit_throttled',
      title: 'Share of DELETEs answered 429 on --rate-limit auto, same run',
      unit: '% of DELETEs',
      target: { max: 1 },
      rounds: unknown.map((r) => ({ ours: r.throttled * 100, baseline: 2 })),
      note: 'baseline: the 2% allowed',
    }),
  ];
}

/** 429s over every DELETE the emulator received since its last reset. */
async function throttledShare(emulator) {
  const stats = await emulator.stats();
  const byStatus = stats.requests.byRoute.delete ?? {};
  const sent = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  return sent === 0 ? 0 : (byStatus['429'] ?? 0) / sent;
}
