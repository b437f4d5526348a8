/** Starts the workers under test: the real CLI worker, or the no-op BullMQ baseline. */
import { fileURLToPath } from 'node:url';
import { openQueue } from '../../dist/queue/open-queue.js';
import { CREDENTIALS } from './inventory.js';
import { CLI, sleep, startNode, waitUntilQuiet } from './proc.js';
import { REDIS_URL } from './queue.js';

const NOOP_WORKER = fileURLToPath(new URL('./noop-worker.js', import.meta.url));

/**
 * `dcs-cleanup worker` as deployed: logs at `logLevel` (info by default) to stdout, here /dev/null.
 * `exitWhenIdle` adds --exit-when-idle; `probe` preloads the memory probe; `redisEnv` points it
 * elsewhere than $REDIS_URL (REDIS_CLUSTER_NODES for the cluster scenario); `rateLimit` is its
 * --rate-limit (default 0: off); `env` adds variables (CLEANUP_ACCOUNTS_FILE and its keys).
 */
export function startCliWorker({
  prefix,
  emulatorUrl,
  concurrency,
  logLevel = 'info',
  exitWhenIdle = false,
  probe,
  redisEnv = { REDIS_URL },
  rateLimit = '0',
  env = {},
}) {
  const args = ['worker', '--concurrency', String(concurrency), '--rate-limit', String(rateLimit)];
  if (exitWhenIdle) args.push('--exit-when-idle');
  return startNode(CLI, args, {
    env: {
      ...redisEnv,
      CLEANUP_PREFIX: prefix,
      CLOUD_SDK_AK: CREDENTIALS.ak,
      CLOUD_SDK_SK: CREDENTIALS.sk,
      DCS_ENDPOINT: emulatorUrl,
      LOG_LEVEL: logLevel,
      METRICS_PORT: '0',
      ...env,
    },
    probe,
  });
}

export function startNoopWorker({ prefix, concurrency, delayMs = 0 }) {
  return startNode(NOOP_WORKER, [], {
    env: { BENCH_PREFIX: prefix, BENCH_CONCURRENCY: String(concurrency), BENCH_DELAY_MS: String(delayMs) },
  });
}

/** Waits until `count` workers are registered on the queue of `prefix`, then until `pid` is idle. */
export async function waitForWorkers(connection, prefix, procs, timeoutMs = 60_000) {
  const queue = openQueue(connection, prefix);
  const deadline = Date.now() + timeoutMs;
  try {
    while ((await queue.getWorkersCount()) < procs.length) {
      for (const p of procs) {
        if (p.child.exitCode !== null)
          throw new Error(`worker exited early (${p.child.exitCode}): ${p.stderr()}`);
      }
      if (Date.now() > deadline) throw new Error(`workers not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
  } finally {
    await queue.close();
  }
  for (const p of procs) await waitUntilQuiet(p.pid);
}
