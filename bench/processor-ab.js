/**
 * The processor path alone, A/B: `node bench/processor-ab.js <dist A> <dist B>` runs the same valid
 * job through the processor of each build (an instant in-process DCS client, the logger writing to a
 * sink, metrics on, no Redis: the success path touches none), 20,000 jobs a round, ten rounds each,
 * interleaved in one process, and prints the CPU microseconds per job of every round and the medians.
 * Each dist directory needs the project's node_modules on its resolution path (a `node_modules`
 * symlink next to it). Not run by `run.js`: it compares two builds, it does not measure a target.
 */
import { Writable } from 'node:stream';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dirs = process.argv.slice(2, 4).map((d) => pathToFileURL(resolve(d)).href);
if (dirs.length !== 2) {
  process.stderr.write('usage: node bench/processor-ab.js <dist A> <dist B>\n');
  process.exit(64);
}

async function load(dir) {
  const { createProcessor } = await import(`${dir}/queue/processor.js`);
  const { createLogger } = await import(`${dir}/observability/logger.js`);
  const { createMetrics } = await import(`${dir}/observability/metrics.js`);
  const { buildResponseOutcome } = await import(`${dir}/dcs/attempt-outcome.js`);
  const { DEFAULT_RETRY_POLICY } = await import(`${dir}/queue/retry-policy.js`);
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const answer = { status: 204, headers: { 'x-request-id': 'r1' }, errorBody: undefined };
  const client = {
    deleteBackgroundTask: async () => buildResponseOutcome(answer, new Date(), 1.2),
    probe: async () => ({ ok: true, verdict: { action: 'deleted', reason: 'http_200' }, durationMs: 1 }),
  };
  const circuit = { isOpen: () => false, onClose() {}, refresh: async () => false, open: async () => false };
  return createProcessor({
    getClient: () => client,
    queue: {},
    connection: {},
    prefix: 'bench',
    deadLetters: {},
    circuit,
    policy: DEFAULT_RETRY_POLICY,
    logger: createLogger({ level: 'info', destination: sink }),
    metrics: createMetrics({ processMetrics: false }),
  });
}

const job = () => ({
  id: 'del_p1_i1_t1',
  attemptsMade: 0,
  attemptsStarted: 1,
  opts: { attempts: 8 },
  data: { schema_version: 1, project_id: 'p1', instance_id: 'i1', task_id: 't1', region: 'cn-north-4' },
});
const processors = [await load(dirs[0]), await load(dirs[1])];
const N = 20_000;
async function round(processor) {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) await processor(job(), 'token');
  const used = process.cpuUsage(start);
  return (used.user + used.system) / N;
}
for (const p of processors) for (let i = 0; i < 2; i++) await round(p);
const rounds = [[], []];
for (let r = 0; r < 10; r++)
  for (const i of r % 2 ? [1, 0] : [0, 1]) rounds[i].push(await round(processors[i]));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[4] + s[5]) / 2;
};
const fixed = (x) => Number(x.toFixed(1));
process.stdout.write(
  `${JSON.stringify({ unit: 'us CPU/job', a: rounds[0].map(fixed), b: rounds[1].map(fixed), median_a: fixed(median(rounds[0])), median_b: fixed(median(rounds[1])) })}\n`,
);
