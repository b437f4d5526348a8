/**
 * startApi: the HTTP API's running parts, built from an App. Started in this order, released in the
 * reverse one by `close()`: the eviction check, the purge lister (the accounts' DCS clients, when
 * the API has credentials), the Fastify server. The App stays its owner's: close it after the service.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { hasCredentialSource } from '../config/credential-settings.js';
import type { PurgeRouteDeps } from '../api/purge-routes.js';
import { createApi } from '../api/create-api.js';
import { requiresToken, resolveApiAuth } from '../api/api-auth.js';
import type { CleanupError } from '../errors.js';
import { CLOSE_WAIT_MS, settleWithin, type App } from './create-app.js';
import { checkApiEviction } from './api-eviction.js';

export type BullBoardMode = 'off' | 'read-only' | 'writable';

/** What a caller of startApi may set instead of the configuration. */
export interface ApiOverrides {
  /** Address to listen on (API_HOST). */
  host?: string | undefined;
  /** Port to listen on, 0 = any free one (API_PORT). */
  port?: number | undefined;
  /** Run without CLEANUP_API_TOKEN: refused unless the host is a loopback one. */
  insecureNoAuth?: boolean | undefined;
  /** Bull Board at /admin/queues (CLEANUP_BULL_BOARD: read-only when true). */
  bullBoard?: BullBoardMode | undefined;
}

export interface ApiService {
  readonly api: FastifyInstance;
  readonly host: string;
  /** The port it listens on (the one picked when 0 was asked). */
  readonly port: number;
  readonly auth: 'token' | 'none';
  readonly bullBoard: BullBoardMode;
  /** Whether POST /v1/purges can list (the API has DCS credentials); else it answers 501. */
  readonly purges: boolean;
  /** Settles with the refusal when Redis, first reached after the start, may evict keys; else never. */
  readonly refused: Promise<CleanupError>;
  close(): Promise<void>;
}

/** Bull Board as asked by an override, else by CLEANUP_BULL_BOARD (off by default). */
export function resolveBullBoard(
  override: BullBoardMode | undefined,
  config: Pick<Config, 'CLEANUP_BULL_BOARD'>,
): BullBoardMode {
  return override ?? (config.CLEANUP_BULL_BOARD ? 'read-only' : 'off');
}

/**
 * The purge lister: the DCS client of the account a spec names (or whose projects list its project),
 * when the API has credentials (an accounts file, or the default account's variables); without them
 * a dry run of POST /v1/purges answers 501. The clients are the app's accounts', closed with the app.
 */
function createPurgeLister(app: App): PurgeRouteDeps['lister'] {
  const accounts = app.accounts();
  if (accounts.file === undefined && !hasCredentialSource(app.config)) return undefined;
  return (region, scope) => accounts.ofScope(scope).clients().get(region);
}

/**
 * Starts the API. It starts even when Redis is away: it answers 503 (and /readyz says so) until
 * Redis is back. Throws when the auth setting is refused or a reachable Redis may evict keys.
 */
export async function startApi(app: App, overrides: ApiOverrides = {}): Promise<ApiService> {
  const { config, logger } = app;
  const host = overrides.host ?? config.API_HOST;
  const auth = resolveApiAuth({
    token: config.CLEANUP_API_TOKEN,
    tokensFile: config.CLEANUP_API_TOKENS_FILE,
    insecureNoAuth: overrides.insecureNoAuth ?? false,
    host,
  });
  const bullBoard = resolveBullBoard(overrides.bullBoard, config);
  const eviction = await checkApiEviction(app);
  const lister = createPurgeLister(app);
  const api = createApi({
    connection: app.connection,
    prefix: app.prefix,
    producer: app.producer(),
    deadLetters: app.deadLetters(),
    runs: app.runs(),
    accounts: app.accounts().all(),
    logger,
    auth,
    bullBoard: bullBoard === 'off' ? false : { writable: bullBoard === 'writable' },
    purges: {
      ...(lister ? { lister } : {}),
      defaultProjectId: config.DCS_PROJECT_ID,
      defaultRegion: config.DCS_REGION,
      limits: { deadlineMs: config.API_PURGE_DEADLINE_MS, planLimit: config.API_PURGE_PLAN_LIMIT },
    },
    timeouts: { requestMs: config.API_REQUEST_TIMEOUT_MS, connectionMs: config.API_CONNECTION_TIMEOUT_MS },
  });
  const close = async (): Promise<void> => {
    // A request still waiting on a cluster caught in a failover would hold api.close() for ever:
    // past a few seconds the remaining HTTP connections are cut, then the clients are closed.
    await settleWithin(api.close(), CLOSE_WAIT_MS);
    api.server.closeAllConnections();
  };
  const port = overrides.port ?? config.API_PORT;
  try {
    await api.listen({ host, port });
  } catch (err) {
    await close();
    throw err;
  }
  const address = api.server.address();
  let closing: Promise<void> | undefined;
  return {
    api,
    host,
    port: typeof address === 'object' && address ? address.port : port,
    auth: requiresToken(auth) ? 'token' : 'none',
    bullBoard,
    purges: lister !== undefined,
    refused: eviction.refused,
    close: () => (closing ??= close()),
  };
}
