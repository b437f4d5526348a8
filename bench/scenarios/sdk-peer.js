/**
 * 7. The official SDK as a peer: the same signed DELETEs at the same concurrency (50) against an
 * emulator answering at once, sent by this project's client (createDcsClient) and by the official
 * @huaweicloud/huaweicloud-sdk-core stack (its AK/SK signer, HcClient and axios), each in its own
 * process, rounds interleaved. Throughput and CPU per request, ours against the SDK's.
 */
import { startLoopArm } from '../lib/arms.js';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { buildFigure, rotate } from '../lib/stats.js';

const CONCURRENCY = 50;
const TASKS_PER_INSTANCE = 2_000;

export async function run(ctx) {
  const requests = ctx.quick ? 1_500 : 10_000;
  const timeoutMs = ctx.quick ? 60_000 : 180_000;
  const emulator = await startEmulatorProcess({
    tasks: { instances: Math.ceil(requests / TASKS_PER_INSTANCE), tasksPerInstance: TASKS_PER_INSTANCE },
  });
  const started = [];
  const rounds = [];
  try {
    const loops = {};
    for (const mode of ['ours', 'sdk']) {
      loops[mode] = await startLoopArm({
        mode,
        url: emulator.url,
        concurrency: CONCURRENCY,
        tasksPerInstance: TASKS_PER_INSTANCE,
      });
      started.push(loops[mode]);
    }
    const arms = {
      ours: (count) => loops.ours.run(0, count, timeoutMs),
      sdk: (count) => loops.sdk.run(0, count, timeoutMs),
    };
    await ctx.warmUp(emulator, arms, Math.min(requests, 1_000));
    for (let r = 0; r < ctx.rounds; r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        await emulator.reset();
        round[arm] = await arms[arm](requests);
        ctx.log(
          `sdk-peer round ${r + 1} ${arm}: ${round[arm].jobsPerSecond.toFixed(0)} req/s, ${round[arm].cpuUsPerJob.toFixed(0)} us CPU/request`,
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
      id: 'sdk_peer.throughput',
      title: `Signed DELETEs per second at concurrency ${CONCURRENCY}: this client vs the official SDK`,
      unit: 'req/s',
      target: { min: 1.5 },
      rounds: rounds.map((r) => ({ ours: r.ours.jobsPerSecond, baseline: r.sdk.jobsPerSecond })),
      note: `${requests} requests a round; "clearly ahead" read as at least 1.5x`,
    }),
    buildFigure({
      id: 'sdk_peer.cpu_per_request',
      title: 'CPU per signed DELETE: this client vs the official SDK',
      unit: 'us/req',
      target: { max: 0.67 },
      rounds: rounds.map((r) => ({ ours: r.ours.cpuUsPerJob, baseline: r.sdk.cpuUsPerJob })),
    }),
  ];
}
