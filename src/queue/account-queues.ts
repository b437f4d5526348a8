/**
 * One BullMQ queue per account, one worker pool per queue. The default account's queue keeps the name
 * `dcs-cleanup`; another account's is `dcs-cleanup@<account>` (accountQueueName), so a deployment with
 * one account, and producers in other languages, see no change. Each queue has its own circuit
 * breaker (its Redis hash, pause, pub/sub and probe): a 401 for account B pauses B's queue only, and
 * A's jobs keep flowing. Dead letters stay one shared queue; each record's job data names its account
 * when the job did. A job names its account only on that account's queue: any other account is an
 * `invalid_job` dead letter saying which queue it belongs on.
 */
import { Queue } from 'bullmq';
import type { AccountRegistry, Account } from '../accounts/account-registry.js';
import type { DeleteJobData } from './job-contract.js';
import type { RedisClient } from './redis-connection.js';
import { createCleanupWorker, type CleanupWorker, type CleanupWorkerOptions } from './worker.js';
import { withAccountLabel } from '../observability/account-metrics.js';

export type AccountWorkersOptions = Omit<
  CleanupWorkerOptions,
  'getClient' | 'queueName' | 'accountProblem'
> & {
  registry: AccountRegistry;
};

export interface AccountWorkers {
  /** One pool per account, by account name. */
  readonly pools: ReadonlyMap<string, CleanupWorker>;
  /**
   * Resolves once every account's queue is idle or held paused by its breaker: `paused` when at
   * least one is, `idle` otherwise.
   */
  waitUntilIdle(pollMs?: number): Promise<'idle' | 'paused'>;
  close(): Promise<void>;
}

/** Why `data` may not run on `account`'s queue, or undefined. */
export function findAccountProblem(
  registry: AccountRegistry,
  account: Account,
  data: Pick<DeleteJobData, 'account'>,
): string | undefined {
  const named = data.account;
  if (named === undefined || named === account.name) return undefined;
  const other = registry.find(named);
  if (other === undefined) {
    return `account: ${named} is not one of the configured accounts (${registry.names.join(', ')})`;
  }
  return `account: ${named} is served by queue ${other.queueName}, not ${account.queueName}: enqueue the job there`;
}

/** Starts one worker pool per account of `registry`, each on its account's queue with its credentials. */
export async function createAccountWorkers(options: AccountWorkersOptions): Promise<AccountWorkers> {
  const { registry, ...common } = options;
  const pools = new Map<string, CleanupWorker>();
  try {
    for (const account of registry.all()) {
      const pool = await createCleanupWorker({
        ...common,
        queueName: account.queueName,
        accountProblem: (data) => findAccountProblem(registry, account, data),
        getClient: (region) => account.clients().get(region),
        // The pair the breaker probes: the account's first project; for the default account, the
        // caller's (DCS_PROJECT_ID in DCS_REGION, or an override) when it gives one.
        trusted: account.isDefault ? (common.trusted ?? account.trusted) : account.trusted,
        concurrency: account.settings.concurrency ?? common.concurrency,
        // Huawei throttles per account: each account has its own shared limiter (rate-control/).
        account: account.name,
        rateLimitPerSecond: account.settings.rateLimit ?? common.rateLimitPerSecond,
        logger: common.logger.child({ account: account.name }),
        ...(common.metrics === undefined ? {} : { metrics: withAccountLabel(common.metrics, account.name) }),
      });
      pools.set(account.name, pool);
    }
  } catch (err) {
    await Promise.all([...pools.values()].map((p) => p.close()));
    throw err;
  }
  return {
    pools,
    async waitUntilIdle(pollMs) {
      const states = await Promise.all([...pools.values()].map((p) => p.waitUntilIdle(pollMs)));
      return states.includes('paused') ? 'paused' : 'idle';
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}

/** A queue handle per account (status, resume, producers); the caller closes them. */
export function openAccountQueues(
  registry: AccountRegistry,
  connection: RedisClient,
  prefix: string,
): Map<string, Queue> {
  const queues = new Map<string, Queue>();
  for (const account of registry.all()) {
    const queue = new Queue(account.queueName, { connection, prefix });
    queue.on('error', () => undefined);
    queues.set(account.name, queue);
  }
  return queues;
}
