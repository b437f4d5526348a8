/**
 * 4. Enqueue: `dcs-cleanup enqueue --file tasks.csv` with 100,000 lines (quick: 15,000) against a
 * raw BullMQ addBulk of the same jobs read from the same file, both whole processes timed from start
 * to exit, rounds interleaved. Then the CLI's peak RSS for 1,000,000 lines (skipped in quick mode,
 * which reports the peak at its own size).
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, startNode, waitForExit } from '../lib/proc.js';
import { REDIS_URL, createPrefix, deletePrefix } from '../lib/queue.js';
import { buildFigure, rotate } from '../lib/stats.js';
import { writeTaskCsv } from '../lib/task-files.js';

const RAW_ENQUEUE = fileURLToPath(new URL('../lib/raw-enqueue.js', import.meta.url));
const RSS_LIMIT_MB = 150;

/** Runs one enqueue process to its end: wall seconds, lines per second, peak RSS (MB). */
async function runEnqueue(ctx, { label, script, args, lines, timeoutMs }) {
  const prefix = createPrefix(label);
  const probe = join(tmpdir(), `dcs-cleanup-bench-probe-${process.pid}-${label}.jsonl`);
  const started = performance.now();
  const proc = startNode(script, args, {
    env: { REDIS_URL, CLEANUP_PREFIX: prefix, BENCH_PREFIX: prefix },
    stdout: 'pipe',
    probe,
  });
  let stdout = '';
  proc.child.stdout.on('data', (d) => (stdout += d.toString('utf8')));
  try {
    const code = await waitForExit(proc, timeoutMs, label);
    const wallMs = performance.now() - started;
    const summary = stdout.split('\n').findLast((l) => l.startsWith('{"enqueued"'));
    const result = summary === undefined ? {} : JSON.parse(summary);
    if (code !== 0 || result.enqueued !== lines) {
      throw new Error(
        `${label}: exit ${code}, ${JSON.stringify(result)} for ${lines} lines; ${proc.stderr()}`,
      );
    }
    const exit = readFileSync(probe, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((s) => s.kind === 'exit');
    return { wallMs, linesPerSecond: (lines * 1000) / wallMs, peakRssMb: exit.maxRssMb };
  } finally {
    rmSync(probe, { force: true });
    await deletePrefix(ctx.redis, prefix);
  }
}

export async function run(ctx) {
  const lines = ctx.quick ? 15_000 : 100_000;
  const timeoutMs = ctx.quick ? 60_000 : 300_000;
  const file = await writeTaskCsv(lines);
  const rounds = [];
  let million;
  try {
    const arms = {
      cli: (r) =>
        runEnqueue(ctx, {
          label: `enqueue-cli-${r}`,
          script: CLI,
          args: ['enqueue', '--file', file.path, '--json'],
          lines,
          timeoutMs,
        }),
      raw: (r) =>
        runEnqueue(ctx, {
          label: `enqueue-raw-${r}`,
          script: RAW_ENQUEUE,
          args: [file.path],
          lines,
          timeoutMs,
        }),
    };
    for (let r = 0; r < ctx.rounds; r++) {
      const round = {};
      for (const arm of rotate(Object.keys(arms), r)) {
        round[arm] = await arms[arm](r);
        ctx.log(
          `enqueue round ${r + 1} ${arm}: ${round[arm].linesPerSecond.toFixed(0)} lines/s, peak RSS ${round[arm].peakRssMb.toFixed(0)} MB`,
        );
      }
      rounds.push(round);
    }
    if (!ctx.quick) {
      const big = await writeTaskCsv(1_000_000);
      try {
        million = await runEnqueue(ctx, {
          label: 'enqueue-cli-1m',
          script: CLI,
          args: ['enqueue', '--file', big.path, '--json'],
          lines: 1_000_000,
          timeoutMs: 900_000,
        });
        ctx.log(
          `enqueue 1,000,000 lines: ${million.linesPerSecond.toFixed(0)} lines/s, peak RSS ${million.peakRssMb.toFixed(0)} MB`,
        );
      } finally {
        await big.remove();
      }
    }
  } finally {
    await file.remove();
  }
  const rss = million ?? { peakRssMb: Math.max(...rounds.map((r) => r.cli.peakRssMb)) };
  return [
    buildFigure({
      id: 'enqueue.throughput',
      title: `dcs-cleanup enqueue --file (${lines} CSV lines) vs raw BullMQ addBulk of the same jobs`,
      unit: 'lines/s',
      target: { min: 0.7 },
      rounds: rounds.map((r) => ({ ours: r.cli.linesPerSecond, baseline: r.raw.linesPerSecond })),
      note: `${lines} lines a round, whole processes timed (start-up included); the CLI checks every line, then reads the file again`,
    }),
    buildFigure({
      id: 'enqueue.peak_rss',
      title: `Peak RSS of dcs-cleanup enqueue for ${million ? '1,000,000' : lines} lines vs the ${RSS_LIMIT_MB} MB limit`,
      unit: 'MB',
      target: { max: 1 },
      rounds: [{ ours: rss.peakRssMb, baseline: RSS_LIMIT_MB }],
      note: million
        ? `1,000,000 lines in ${(million.wallMs / 1000).toFixed(1)} s (${million.linesPerSecond.toFixed(0)} lines/s)`
        : `quick mode: the 1,000,000-line run is skipped; this is the peak for ${lines} lines`,
    }),
  ];
}
