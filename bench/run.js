/**
 * The benchmark suite: `npm run bench [-- --quick] [-- --only name[,name]] [-- --rounds N]`.
 * Every figure is ours against a baseline measured in the same run, rounds interleaved, medians
 * reported. Talks to 127.0.0.1 only (Redis at $REDIS_URL, default redis://127.0.0.1:6379, under
 * a fresh prefix per round, deleted after). Prints the table, then the JSON summary, on stdout;
 * progress goes to stderr. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { killAllChildren, readLoadAverage, ROOT } from './lib/proc.js';
import { connectRedis, deleteAllPrefixes } from './lib/queue.js';
import { formatTable, writeSummary } from './lib/report.js';

const SCENARIOS = [
  'overhead',
  'latency',
  'scale-out',
  'enqueue',
  'memory',
  'purge',
  'sdk-peer',
  'cluster',
  'rate',
  'urgent',
  'fairness',
];
const MODULES = {
  overhead: './scenarios/job-overhead.js',
  latency: './scenarios/latency-throughput.js',
  'scale-out': './scenarios/scale-out.js',
  enqueue: './scenarios/enqueue.js',
  memory: './scenarios/memory.js',
  purge: './scenarios/purge-planning.js',
  'sdk-peer': './scenarios/sdk-peer.js',
  cluster: './scenarios/redis-cluster.js',
  rate: './scenarios/rate-control.js',
  urgent: './scenarios/urgent-latency.js',
  fairness: './scenarios/fairness.js',
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--only ${SCENARIOS.join(',')}] [--rounds N]\n`);
  process.exit(0);
}
const selected = values.only === undefined ? SCENARIOS : values.only.split(',').map((s) => s.trim());
const unknown = selected.filter((s) => !SCENARIOS.includes(s));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}\n`);
  process.exit(64);
}
const rounds = values.rounds === undefined ? (values.quick ? 3 : 5) : Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  process.stderr.write('--rounds must be a whole number from 1 to 50\n');
  process.exit(64);
}

const startedAt = new Date();
const started = performance.now();
const log = (message) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
const redis = connectRedis();
const ctx = {
  quick: values.quick,
  rounds,
  redis,
  log,
  /** One unmeasured batch per arm, so the measured rounds find every process warm (JIT, pools). */
  async warmUp(emulator, arms, count) {
    for (const arm of Object.values(arms)) {
      await emulator.reset();
      await arm(count);
    }
  },
};
const figures = [];
const errors = [];
const onSignal = () => {
  killAllChildren();
  void deleteAllPrefixes(redis).finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const loadBefore = readLoadAverage();
log(
  `mode ${values.quick ? 'quick' : 'full'}, ${rounds} rounds, scenarios ${selected.join(', ')}; load ${loadBefore.join(' ')}`,
);
for (const scenario of selected) {
  const t0 = performance.now();
  try {
    const module = await import(MODULES[scenario]);
    const result = await module.run(ctx);
    figures.push(...result.map((f) => ({ scenario, ...f })));
  } catch (err) {
    errors.push({ scenario, error: err instanceof Error ? err.message : String(err) });
    log(`${scenario} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killAllChildren();
  }
  log(`${scenario} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
await deleteAllPrefixes(redis);
redis.disconnect();

const summary = {
  date: startedAt.toISOString(),
  mode: values.quick ? 'quick' : 'full',
  rounds,
  duration_s: Math.round((performance.now() - started) / 100) / 10,
  machine: {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    load_before: loadBefore,
    load_after: readLoadAverage(),
  },
  commit: readCommit(),
  figures,
  errors,
  all_targets_met: errors.length === 0 && figures.every((f) => f.met !== false),
};
process.stdout.write(`\n${formatTable(figures)}\n\n`);
for (const f of figures) if (f.note) process.stdout.write(`  ${f.id}: ${f.note}\n`);
for (const e of errors) process.stdout.write(`  FAILED ${e.scenario}: ${e.error}\n`);
const path = writeSummary(summary);
process.stdout.write(`\n${JSON.stringify(summary)}\n`);
log(`summary written to ${path}; ${summary.duration_s} s in all`);
process.exitCode = errors.length > 0 ? 1 : 0;

function readCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}
