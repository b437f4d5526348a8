/**
 * The HTTP API as a Fastify instance that is not listening yet: `dcs-cleanup serve` listens, tests
 * use `inject()`. Routes: /v1 (token), /admin/queues (Bull Board, token), /healthz, /readyz,
 * /metrics and /openapi.json (open). docs/api.md describes them.
 */
import {
  LogController,
  fastify,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import type { DeadLetters } from '../queue/dead-letters.js';
import type { Producer } from '../queue/producer.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import type { TaskLister } from '../purge/stream-inventory.js';
import type { PurgeLimits } from './purge-gate.js';
import { buildAuthHook, buildLoopbackGuard, requiresToken, type ApiAuth } from './api-auth.js';
import { createTokenStore } from './token-file.js';
import { buildErrorHandler, frameworkErrorHandler, notFoundHandler } from './api-error.js';
import { createApiMetrics, observeRequests } from './api-metrics.js';
import { BULL_BOARD_PATH, registerBullBoard } from './bull-board-routes.js';
import { registerDeadLetterRoutes } from './dead-letter-routes.js';
import { registerDeletionRoutes } from './deletion-routes.js';
import { registerEventRoutes } from './event-routes.js';
import type { AccountQueue } from './health-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import { registerOpenApiRoutes } from './openapi-routes.js';
import { registerPurgeRoutes } from './purge-routes.js';
import { zodValidatorCompiler } from './zod-validation.js';
import { registerRunRoutes } from './run-routes.js';
import { registerRequestSpans } from './request-span.js';
import { createRunLedger, type RunLedger } from '../runs/run-ledger.js';
import { createSchedules } from '../queue/schedules.js';

/**
 * The largest request body: 1000 tasks with 64-character ids, pretty-printed, fit with room to
 * spare, and a client cannot make the server buffer more than this per request.
 */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The longest path parameter (job and dead letter ids) the router accepts. */
export const MAX_PARAM_LENGTH = 300;

export interface ApiDeps {
  /** An `api`-role connection (no offline queue): requests answer 503 at once when Redis is away. */
  connection: RedisClient;
  prefix: string;
  producer: Producer;
  deadLetters: DeadLetters;
  logger: Logger;
  auth: ApiAuth;
  /** Default: a fresh registry with process metrics. */
  metrics?: Metrics;
  /** The accounts and their queues, for /readyz; default the one account of `dcs-cleanup`. */
  accounts?: readonly AccountQueue[];
  /** Bull Board at /admin/queues, read-only unless `writable`; default `false`: no board. */
  bullBoard?: { writable: boolean } | false;
  /** What POST /v1/purges needs; without `lister` it answers 501. */
  purges?: {
    lister?: (
      region: string | undefined,
      scope?: { project_id: string; account?: string | undefined },
    ) => TaskLister;
    defaultProjectId?: string | undefined;
    defaultRegion?: string | undefined;
    /** Deadline and answer size of a purge request; default DEFAULT_PURGE_LIMITS. */
    limits?: PurgeLimits;
  };
  /** Fastify's requestTimeout and connectionTimeout (API_REQUEST_TIMEOUT_MS, API_CONNECTION_TIMEOUT_MS). */
  timeouts?: ServerTimeouts;
  /** The run ledger (the App's: RUNS_RETENTION_DAYS, RUNS_MAX_COUNT); default one under `prefix`. */
  runs?: RunLedger;
}

/**
 * How long a client may take to send a whole request, and how long a connection may stay silent.
 * The second must outlast a purge's listing, during which the server sends nothing.
 */
export interface ServerTimeouts {
  requestMs: number;
  connectionMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = { requestMs: 30_000, connectionMs: 150_000 };

/**
 * One record per request: `info` for /v1, `warn` for a request /v1 or /admin refused (401, 403), else
 * `debug`. Who asked: the peer address and the label of the token (never the token).
 */
function logRequest(logger: Logger, request: FastifyRequest, reply: FastifyReply): void {
  const route = request.routeOptions.url ?? 'unmatched';
  const record = {
    method: request.method,
    route,
    status: reply.statusCode,
    duration_ms: Math.round(reply.elapsedTime),
    remote_address: request.ip,
    token_label: request.tokenLabel,
  };
  const guarded = route.startsWith('/v1/') || route.startsWith(BULL_BOARD_PATH);
  if (guarded && (reply.statusCode === 401 || reply.statusCode === 403)) logger.warn(record, 'api request');
  else if (route.startsWith('/v1/')) logger.info(record, 'api request');
  else logger.debug(record, 'api request');
}

/** Builds the API; the caller listens (or injects) and closes it, and owns every dependency. */
export function createApi(deps: ApiDeps): FastifyInstance {
  const { connection, producer, deadLetters, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const apiMetrics = createApiMetrics(metrics.registry);
  // Our pino logger (its redaction rules), typed as Fastify's base logger so `app` is a plain FastifyInstance.
  const loggerInstance: FastifyBaseLogger = logger;
  const timeouts = deps.timeouts ?? DEFAULT_SERVER_TIMEOUTS;
  const app: FastifyInstance = fastify({
    loggerInstance,
    // Fastify's own request records would carry headers we do not want logged; ours are below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Slow clients (slowloris) cannot hold a connection open for ever, nor trickle a request in.
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.connectionMs,
    // Job ids are about 110 characters (three ids in one); the default limit of 100 refuses them.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkErrorHandler,
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setErrorHandler(buildErrorHandler(logger));
  app.setNotFoundHandler(notFoundHandler);
  // First hook: the server span covers refusals too.
  registerRequestSpans(app);
  // Without a token, only loopback callers that are not browser pages (DNS rebinding): every route.
  if (!requiresToken(deps.auth)) app.addHook('onRequest', buildLoopbackGuard());
  const tokensFile = requiresToken(deps.auth) ? deps.auth.tokensFile : undefined;
  const tokens = tokensFile === undefined ? undefined : createTokenStore({ path: tokensFile, logger });
  if (tokens)
    app.addHook('onClose', (_instance, done) => {
      tokens.close();
      done();
    });
  observeRequests(app, apiMetrics);
  app.decorateRequest('tokenLabel', null);
  app.decorateRequest('tokenScopes', null);
  app.addHook('onResponse', async (request, reply) => logRequest(logger, request, reply));

  registerHealthRoutes(app, { connection, prefix: deps.prefix, accounts: deps.accounts });
  registerMetricsRoutes(app, {
    metrics,
    connection,
    prefix: deps.prefix,
    queue: producer.queue,
    deadLetters,
  });
  registerOpenApiRoutes(app);
  const ledger = deps.runs ?? createRunLedger({ connection, prefix: deps.prefix });
  // API purges are handed to the worker processes on the schedules queue.
  const schedules = createSchedules({ connection, prefix: deps.prefix });
  app.addHook('onClose', async () => schedules.close());
  void app.register((v1, _opts, done) => {
    v1.addHook('onRequest', buildAuthHook(deps.auth, tokens ? { tokens } : {}));
    const deletions = { connection, prefix: deps.prefix, producer, metrics: apiMetrics, runs: ledger };
    registerDeletionRoutes(v1, deletions);
    registerEventRoutes(v1, deletions);
    registerRunRoutes(v1, { connection, ledger, queue: producer.queue });
    registerDeadLetterRoutes(v1, { connection, producer, deadLetters });
    registerPurgeRoutes(v1, {
      connection,
      prefix: deps.prefix,
      runs: { ledger, schedulesQueue: schedules.queue },
      lister: deps.purges?.lister,
      defaultProjectId: deps.purges?.defaultProjectId,
      defaultRegion: deps.purges?.defaultRegion,
      logger,
      limits: deps.purges?.limits,
    });
    done();
  });
  if (deps.bullBoard) {
    registerBullBoard(app, {
      auth: deps.auth,
      tokens,
      queues: [...producer.queues(), deadLetters.queue],
      writable: deps.bullBoard.writable,
    });
  }
  return app;
}
