/**
 * 6. Purge planning: an emulator with 50 instances x 2,000 tasks (quick: 20 x 750) of mixed
 * statuses and ages. `dcs-cleanup purge --all-instances --older-than 1d --yes` (list, filter,
 * enqueue; no worker) against a raw loop over the list API with the same page size and instance
 * concurrency, both whole processes timed. Then the purge's peak RSS at this size against a fifth
 * of it: flat in the task count means at most 1.2x.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulatorProcess } from '../lib/emulator-process.js';
import { CREDENTIALS, PROJECT_ID } from '../lib/inventory.js';
import { CLI, startNode, waitForExit } from '../lib/proc.js';
import { REDIS_URL, createPrefix, deletePrefix } from '../lib/queue.js';
import { buildFigure, rotate } from '../lib/stats.js';

const RAW_LIST = fileURLToPath(new URL('../lib/raw-list.js', import.meta.url));
const LIST_CONCURRENCY = 8;

/** One process to its end: wall ms, peak RSS (MB), its stdout. */
async function runProcess(ctx, { label, script, args, env, timeoutMs }) {
  const probe = join(tmpdir(), `dcs-cleanup-bench-probe-${process.pid}-${label}.jsonl`);
  const started = performance.now();
  const proc = startNode(script, args, { env, stdout: 'pipe', probe });
  let stdout = '';
  proc.child.stdout.on('data', (d) => (stdout += d.toString('utf8')));
  try {
    const code = await waitForExit(proc, timeoutMs, label);
    const wallMs = performance.now() - started;
    if (code !== 0) throw new Error(`${label}: exit ${code}: ${stdout.slice(-500)} ${proc.stderr()}`);
    const exit = readFileSync(probe, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((s) => s.kind === 'exit');
    return { wallMs, peakRssMb: exit.maxRssMb, stdout };
  } finally {
    rmSync(probe, { force: true });
  }
}

async function runPurge(ctx, emulator, label, timeoutMs) {
  const prefix = createPrefix(label);
  try {
    const result = await runProcess(ctx, {
      label,
      script: CLI,
      args: [
        'purge',
        '--all-instances',
        '--older-than',
        '1d',
        '--yes',
        '--max',
        '1000000',
        '--concurrency',
        String(LIST_CONCURRENCY),
      ],
      env: {
        REDIS_URL,
        CLEANUP_PREFIX: prefix,
        CLOUD_SDK_AK: CREDENTIALS.ak,
        CLOUD_SDK_SK: CREDENTIALS.sk,
        DCS_ENDPOINT: emulator.url,
        DCS_PROJECT_ID: PROJECT_ID,
        LOG_LEVEL: 'warn',
      },
      timeoutMs,
    });
    const enqueued = Number(/enqueued (\d+)/.exec(result.stdout)?.[1] ?? NaN);
    if (!(enqueued > 0)) throw new Error(`${label}: no "enqueued N" in ${result.stdout.slice(-500)}`);
    return { ...result, enqueued };
  } finally {
    await deletePrefix(ctx.redis, prefix);
  }
}

export async function run(ctx) {
  const instances = ctx.quick ? 20 : 50;
  const perInstance = ctx.quick ? 750 : 2_000;
  const timeoutMs = ctx.quick ? 60_000 : 300_000;
  const rounds = [];
  let small;
  let big;
  const emulator = await startEmulatorProcess({
    generated: { instances, tasksPerInstance: perInstance, seed: 7 },
  });
  try {
    const arms = {
      purge: (r) => runPurge(ctx, emulator, `purge-cli-${r}`, timeoutMs),
      raw: (r) =>
        runProcess(ctx, {
          label: `purge-raw-${r}`,
          script: RAW_LIST,
          args: [],
          env: { BENCH_LIST: JSON.stringify({ url: emulator.url, concurrency: LIST_CONCURRENCY }) },
          timeoutMs,
        }),
    };
    for (let r = 0; r < Math.min(ctx.rounds, ctx.quick ? 2 : 3); r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        round[arm] = await arms[arm](r);
        ctx.log(
          `purge round ${r + 1} ${arm}: ${(round[arm].wallMs / 1000).toFixed(2)} s, peak RSS ${round[arm].peakRssMb.toFixed(0)} MB`,
        );
      }
      rounds.push(round);
    }
    big = rounds.at(-1).purge;
  } finally {
    await emulator.stop();
  }
  const smallEmulator = await startEmulatorProcess({
    generated: { instances, tasksPerInstance: perInstance / 5, seed: 7 },
  });
  try {
    small = await runPurge(ctx, smallEmulator, 'purge-cli-small', timeoutMs);
    ctx.log(
      `purge of a fifth: ${(small.wallMs / 1000).toFixed(2)} s, peak RSS ${small.peakRssMb.toFixed(0)} MB`,
    );
  } finally {
    await smallEmulator.stop();
  }
  const total = instances * perInstance;
  return [
    buildFigure({
      id: 'purge.time',
      title: `Purge (list ${total} tasks, filter, enqueue) vs a raw loop over the list API (page 1000, ${LIST_CONCURRENCY} instances at once)`,
      unit: 's',
      rounds: rounds.map((r) => ({ ours: r.purge.wallMs / 1000, baseline: r.raw.wallMs / 1000 })),
      note: `${instances} x ${perInstance} tasks, ${big.enqueued} selected and enqueued; whole processes timed`,
    }),
    buildFigure({
      id: 'purge.peak_rss',
      title: `Purge peak RSS with ${total} tasks vs with ${total / 5}`,
      unit: 'MB',
      target: { max: 1.2 },
      rounds: [{ ours: big.peakRssMb, baseline: small.peakRssMb }],
      note: `raw list loop peak RSS ${rounds.at(-1).raw.peakRssMb.toFixed(0)} MB`,
    }),
  ];
}
