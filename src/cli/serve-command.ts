import { hasCredentialSource } from '../config/credential-settings.js';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.js';
import { CLOSE_WAIT_MS, createApp, settleWithin, type App } from '../app.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { CleanupError, isCleanupError } from '../errors.js';
import { checkEvictionPolicy } from '../queue/eviction-check.js';
import { createApi } from '../api/create-api.js';
import { resolveApiAuth } from '../api/api-auth.js';
import type { TaskLister } from '../purge/stream-inventory.js';
import { waitForShutdown } from '../bin/process-lifecycle.js';
import { EXIT_CODES, runCommand } from './run-command.js';
import { parseIntOption } from './options.js';

interface ServeFlags {
  host?: string;
  port?: number;
  insecureNoAuth?: boolean;
  bullBoard?: boolean;
  bullBoardWritable?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the HTTP API (enqueue deletions, job status, dead letters, purges, /metrics, Bull Board) until stopped.',
    )
    .option('--host <address>', 'address to listen on (default API_HOST, 127.0.0.1)')
    .option(
      '--port <port>',
      'port to listen on (default API_PORT, 8080)',
      parseIntOption('--port', 0, 65_535),
    )
    .option('--insecure-no-auth', 'run without CLEANUP_API_TOKEN: allowed only on a loopback host')
    .option('--bull-board', 'serve Bull Board at /admin/queues, read-only (default CLEANUP_BULL_BOARD, off)')
    .option(
      '--bull-board-writable',
      'serve Bull Board and let it retry, promote and remove jobs (implies --bull-board)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  CLEANUP_API_TOKEN=$(openssl rand -hex 32) dcs-cleanup serve --host 0.0.0.0 --port 8080\n',
    )
    .action(runCommand(runServe));
}

type PurgeLister = (
  region: string | undefined,
  scope?: { project_id: string; account?: string },
) => TaskLister;

/**
 * The lister of a purge's account (the one it names, else the one listing its project), when the API
 * has credentials (an accounts file, or the variables); without them POST /v1/purges answers 501.
 * The clients are the app's accounts', closed with it.
 */
function createPurgeLister(app: App): PurgeLister | undefined {
  const accounts = app.accounts();
  if (accounts.file === undefined && !hasCredentialSource(app.config)) return undefined;
  return (region, scope) =>
    (scope === undefined
      ? accounts.get(accounts.defaultName)
      : accounts.resolve(scope.project_id, scope.account)
    )
      .clients()
      .get(region);
}

/** Whether `serve` mounts Bull Board: only when asked, by a flag or CLEANUP_BULL_BOARD. */
export function resolveBullBoard(
  flags: Pick<ServeFlags, 'bullBoard' | 'bullBoardWritable'>,
  config: Pick<Config, 'CLEANUP_BULL_BOARD'>,
): 'off' | 'read-only' | 'writable' {
  if (flags.bullBoardWritable) return 'writable';
  return (flags.bullBoard ?? config.CLEANUP_BULL_BOARD) ? 'read-only' : 'off';
}

async function runServe(flags: ServeFlags): Promise<number> {
  const config = loadConfig();
  const host = flags.host ?? config.API_HOST;
  const port = flags.port ?? config.API_PORT;
  const auth = resolveApiAuth({
    token: config.CLEANUP_API_TOKEN,
    insecureNoAuth: flags.insecureNoAuth ?? false,
    host,
  });
  const bullBoard = resolveBullBoard(flags, config);
  // The API starts even when Redis is away: it answers 503 (and /readyz says so) until Redis is back.
  const app = createApp(config, { role: 'api' });
  const { logger } = app;
  const eviction = await checkApiEviction(app);
  const lister = createPurgeLister(app);
  const api = createApi({
    connection: app.connection,
    prefix: app.prefix,
    producer: app.producer(),
    deadLetters: app.deadLetters(),
    logger,
    auth,
    accounts: app.accounts().all(),
    bullBoard: bullBoard === 'off' ? false : { writable: bullBoard === 'writable' },
    purges: {
      ...(lister ? { lister } : {}),
      defaultProjectId: config.DCS_PROJECT_ID,
      defaultRegion: config.DCS_REGION,
      limits: { deadlineMs: config.API_PURGE_DEADLINE_MS, planLimit: config.API_PURGE_PLAN_LIMIT },
    },
    timeouts: { requestMs: config.API_REQUEST_TIMEOUT_MS, connectionMs: config.API_CONNECTION_TIMEOUT_MS },
  });
  await api.listen({ host, port });
  const address = api.server.address();
  logger.info(
    {
      host,
      port: typeof address === 'object' && address ? address.port : port,
      prefix: app.prefix,
      auth: 'token' in auth ? 'token' : 'none',
      bull_board: bullBoard,
      purges: lister ? 'enabled' : 'disabled (no DCS credentials)',
    },
    'api listening',
  );
  if (!('token' in auth))
    logger.warn({ host }, 'the API runs WITHOUT authentication (--insecure-no-auth, loopback only)');
  const close = async (): Promise<void> => {
    // A request still waiting on a cluster caught in a failover would hold api.close() for ever:
    // past a few seconds the remaining HTTP connections are cut, then Redis is closed under it.
    await settleWithin(api.close(), CLOSE_WAIT_MS);
    api.server.closeAllConnections();
    await app.close();
    logger.info('api stopped');
    logger.flush();
  };
  return Promise.race([
    waitForShutdown({ close }, { onSignal: (signal) => logger.info({ signal }, 'shutting down') }),
    eviction.refused.then(async (err) => {
      logger.fatal({ err: err.message }, 'refusing to serve');
      await close();
      process.stderr.write(`dcs-cleanup: ${err.message}\n`);
      return EXIT_CODES.failure;
    }),
  ]);
}

/**
 * Checks Redis's eviction policy before listening: throws when Redis answers and may evict keys.
 * When Redis is away the API starts anyway, and the check runs once Redis first answers: the
 * promise resolves with the refusal then (and never when the policy is fine).
 */
async function checkApiEviction(app: App): Promise<{ refused: Promise<CleanupError> }> {
  const options = { allowEviction: app.config.REDIS_ALLOW_EVICTION, logger: app.logger };
  if (!(await becomesReady(app.connection, 2_000))) {
    app.logger.warn('Redis does not answer yet: its eviction policy is checked once it does');
    const refused = new Promise<CleanupError>((resolve) => {
      app.connection.once('ready', () => {
        checkEvictionPolicy(app.connection, options).catch((err: unknown) => {
          if (isCleanupError(err, 'REDIS_EVICTION')) resolve(err);
        });
      });
    });
    return { refused };
  }
  try {
    await checkEvictionPolicy(app.connection, options);
  } catch (err) {
    await app.close();
    throw err;
  }
  return { refused: new Promise<never>(() => undefined) };
}

/** True once the connection is ready (an `api` connection has no offline queue to wait in). */
async function becomesReady(connection: RedisClient, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return true;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    return await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      connection.once('ready', onReady);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) connection.off('ready', onReady);
  }
}
