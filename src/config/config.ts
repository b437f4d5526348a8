/**
 * The one configuration schema: every setting, read from the environment once.
 * Only this folder reads `process.env`; docs/configuration.md lists the same variables (a test checks).
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { Credentials } from '../huawei/credentials.js';
import { ID_PATTERN } from '../dcs/ids.js';
import { resolveSecretFiles, type ReadSecretFile } from './secret-files.js';
import { REGION_PATTERN, acceptConfiguredRegions, findRegionProblem } from './regions.js';
import { checkRedisMode } from './redis-settings.js';
import { redisSchemaShape } from './redis-schema.js';
import { hostFrom, intFrom, optionalString } from './schema-parts.js';
import { emulatorSettingsShape } from './emulator-settings.js';
import { rateSchemaShape } from './rate-settings.js';

export { REGION_PATTERN } from './regions.js';
import { checkCredentialAliases, credentialSettingsShape, requireStaticKeys } from './credential-settings.js';
import { checkEventsSettings, eventsSettingsShape } from './events-settings.js';

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** 127.0.0.0/8, ::1 and localhost: addresses other machines cannot reach. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.test(host);
}

/** True when `url` is https, or plain http to a loopback host. */
export function isAllowedEndpoint(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

/** The one endpoint rule (DCS_ENDPOINT, and any client's `endpoint`): why it is unusable, or undefined. */
export function findEndpointProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  if (!isAllowedEndpoint(url)) {
    return 'must be https://, or plain http:// to a loopback host (credentials must not travel in clear text)';
  }
  if (url.search !== '' || url.hash !== '') return 'must not have a query or a fragment';
  return undefined;
}

export const configSchema = z.object({
  ...redisSchemaShape,
  CLEANUP_PREFIX: z
    .string()
    .default('dcs-cleanup')
    .describe('BullMQ key prefix. Must carry a hash tag such as {dcs-cleanup} on Redis Cluster.')
    .refine((v) => /^[A-Za-z0-9_:.{}-]{1,64}$/.test(v), 'letters, digits, _ : . - and {} only, at most 64'),
  CLOUD_SDK_AK: optionalString.describe('Huawei Cloud access key id (AK). Needed by commands that call DCS.'),
  CLOUD_SDK_SK: optionalString.describe('Huawei Cloud secret access key (SK). Never logged.'),
  CLOUD_SDK_SECURITY_TOKEN: optionalString.describe(
    'Security token of temporary credentials (sent as X-Security-Token). Never logged.',
  ),
  ...credentialSettingsShape,
  CLEANUP_ACCOUNTS_FILE: optionalString.describe(
    'A YAML or JSON file naming several accounts (credentials, projects, regions); without it one account, default, from the variables above.',
  ),
  DCS_REGION: z
    .string()
    .default('cn-north-4')
    .describe('Default region, used for jobs without a region and to build the endpoint.')
    .refine((v) => REGION_PATTERN.test(v), 'must look like cn-north-4'),
  DCS_EXTRA_REGIONS: optionalString
    .refine(
      (v) => v === undefined || v.split(',').every((r) => REGION_PATTERN.test(r.trim())),
      'must be regions such as cn-north-4,ap-southeast-1, separated by commas',
    )
    .transform((v) => v?.split(',').map((r) => r.trim()))
    .describe(
      'Comma-separated regions accepted besides the DCS regions of the official SDKs and DCS_REGION (a region opened since).',
    ),
  DCS_ENDPOINT: optionalString
    .describe('Full base URL overriding https://dcs.{region}.myhuaweicloud.com for every region.')
    .superRefine((value, ctx) => {
      const problem = value === undefined ? undefined : findEndpointProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  DCS_PROJECT_ID: optionalString
    .describe(
      'Default project id for purges and enqueues that name none; with DCS_REGION, the pair the breaker probes.',
    )
    .refine((v) => v === undefined || ID_PATTERN.test(v), 'letters, digits and - only, at most 64'),
  DCS_CONNECT_TIMEOUT_MS: intFrom(5_000, 100, 120_000).describe('TCP/TLS connect timeout for DCS calls.'),
  DCS_HEADERS_TIMEOUT_MS: intFrom(15_000, 100, 300_000).describe('Time to wait for response headers.'),
  DCS_BODY_TIMEOUT_MS: intFrom(15_000, 100, 300_000).describe('Time allowed between body chunks.'),
  DCS_CLIENT_CACHE_SIZE: intFrom(32, 1, 1_000).describe(
    'Most DCS endpoints (regions) a process keeps a connection pool for; the least recently used one is closed past that.',
  ),
  DCS_REQUEST_TIMEOUT_MS: intFrom(30_000, 100, 600_000).describe(
    'Overall deadline of one DCS call (DELETE or list page), from sending to the last byte of the answer.',
  ),
  NODE_TLS_REJECT_UNAUTHORIZED: optionalString
    .describe(
      "Node's switch for TLS certificate checks. Must be unset or 1: 0 (no certificate check) is refused at start.",
    )
    .refine(
      (v) => v === undefined || v === '1',
      'must be unset or 1: 0 turns TLS certificate verification off, which would send signed requests to anyone on the path',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level; debug adds one record per DCS request.'),
  WORKER_CONCURRENCY: intFrom(32, 1, 1000).describe('Jobs processed at once by one worker process.'),
  ...rateSchemaShape,
  METRICS_PORT: intFrom(0, 0, 65_535).describe(
    'Port of the worker Prometheus /metrics endpoint; 0 turns it off.',
  ),
  METRICS_HOST: hostFrom('127.0.0.1').describe(
    'Address the worker metrics server (/metrics, /healthz) listens on; the container image sets 0.0.0.0.',
  ),
  WORKER_HEALTH_GRACE_MS: intFrom(120_000, 1_000, 3_600_000).describe(
    'How long Redis may be silent before the worker /healthz answers 503 (a blip must not restart a fleet).',
  ),
  DEAD_LETTER_MAX_AGE_DAYS: intFrom(30, 0, 3_650).describe(
    'Dead letters older than this many days are dropped by the workers; 0 keeps them for ever.',
  ),
  DEAD_LETTER_MAX_COUNT: intFrom(100_000, 0, 100_000_000).describe(
    'At most this many dead letters are kept (the oldest go first); 0 sets no limit.',
  ),
  RUNS_RETENTION_DAYS: intFrom(30, 1, 3_650).describe(
    'Run records (`dcs-cleanup runs`, /v1/runs) older than this many days are dropped, whatever BullMQ keeps of the jobs.',
  ),
  RUNS_MAX_COUNT: intFrom(10_000, 1, 10_000_000).describe(
    'At most this many run records are kept (the oldest go first).',
  ),
  JOBS_DEDUPE_WINDOW_SEC: intFrom(3_600, 60, 604_800).describe(
    'How long a finished job is kept, so that enqueueing its task again within that time is a duplicate.',
  ),
  JOBS_KEEP_COMPLETED: intFrom(0, 0, 100_000_000).describe(
    'Most finished jobs kept; 0 derives it from the rate: WORKER_RATE_LIMIT (200 when off or auto) x JOBS_DEDUPE_WINDOW_SEC.',
  ),
  CLEANUP_API_TOKEN: optionalString.describe(
    'Bearer token of the HTTP API with every scope (label `default`); CLEANUP_API_TOKENS_FILE adds scoped tokens. Never logged.',
  ),
  ...eventsSettingsShape,
  API_HOST: hostFrom('127.0.0.1').describe('Address the HTTP API listens on.'),
  API_PORT: intFrom(8080, 0, 65_535).describe('Port the HTTP API listens on.'),
  CLEANUP_BULL_BOARD: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
    .default('false')
    .transform((v) => v === 'true' || v === '1')
    .describe(
      'Serve Bull Board at /admin/queues from the HTTP API (like serve --bull-board); off by default.',
    ),
  API_REQUEST_TIMEOUT_MS: intFrom(30_000, 1_000, 600_000).describe(
    'Time a client has to send a whole request (headers and body) to the HTTP API.',
  ),
  API_CONNECTION_TIMEOUT_MS: intFrom(150_000, 1_000, 3_600_000).describe(
    'An HTTP API connection silent this long is closed; must exceed API_PURGE_DEADLINE_MS.',
  ),
  API_PURGE_DEADLINE_MS: intFrom(120_000, 1_000, 3_600_000).describe(
    'The longest POST /v1/purges may list before it stops and answers 504 (larger purges: the CLI).',
  ),
  API_PURGE_PLAN_LIMIT: intFrom(1_000, 1, 100_000).describe(
    'The most tasks a dry run of POST /v1/purges lists in its answer (the counts cover every task).',
  ),
  WORKER_PROBE_INTERVAL_MS: intFrom(120_000, 100, 3_600_000).describe(
    'While the circuit breaker holds the queue paused, how often one worker probes DCS with one signed call.',
  ),
  WORKER_SHUTDOWN_TIMEOUT_SEC: intFrom(10, 0, 3_600).describe(
    'On SIGTERM, how long in-flight DELETEs may finish before they are aborted and their jobs put back (worker --shutdown-timeout).',
  ),
  WORKER_LOCK_DURATION_MS: intFrom(30_000, 1_000, 600_000).describe(
    'How long a job stays claimed by a worker that died (kill -9) before another worker takes it over (worker --lock-duration-ms).',
  ),
  RETRY_IN_PROCESS_RETRIES: intFrom(3, 0, 10).describe(
    'Quick retries of a transient failure (5xx, timeout, reset) inside one job run, before a BullMQ retry.',
  ),
  RETRY_IN_PROCESS_BASE_MS: intFrom(200, 0, 60_000).describe(
    'Full-jitter base of the quick retries (of a DELETE in one job run, and of the list pages of a purge): the n-th waits up to base x 2^(n-1) ms.',
  ),
  RETRY_IN_PROCESS_CAP_MS: intFrom(3_000, 0, 600_000).describe('Longest wait between two quick retries.'),
  RETRY_BACKOFF_BASE_MS: intFrom(5_000, 0, 3_600_000).describe(
    'Full-jitter base of the BullMQ retries: after the n-th failed attempt a job waits up to base x 2^(n-1) ms.',
  ),
  RETRY_BACKOFF_CAP_MS: intFrom(300_000, 0, 86_400_000).describe('Longest wait before a BullMQ retry.'),
  RETRY_BUSY_FLOOR_MS: intFrom(30_000, 0, 3_600_000).describe(
    'A busy instance (400 111400017 and kin) is asked again after at least this long.',
  ),
  RETRY_BUSY_JITTER_MS: intFrom(30_000, 0, 3_600_000).describe('Random extra wait added to the busy floor.'),
  RETRY_THROTTLE_MIN_MS: intFrom(2_000, 0, 600_000).describe(
    'After a 429 without Retry-After the whole queue (or a list page) waits between the min and max (Huawei suggests 2-5 s).',
  ),
  RETRY_THROTTLE_MAX_MS: intFrom(5_000, 0, 600_000).describe(
    'Upper end of the pause after a 429 without Retry-After; at least RETRY_THROTTLE_MIN_MS.',
  ),
  RETRY_THROTTLE_CAP_MS: intFrom(60_000, 0, 3_600_000).describe(
    'A longer Retry-After (to a DELETE or a list page) is cut to this.',
  ),
  RETRY_MAX_STARTS: intFrom(500, 1, 100_000).describe(
    'A job started more often than this (throttled, busy or interrupted every time) is dead-lettered.',
  ),
  ...emulatorSettingsShape,
});

export type Config = z.infer<typeof configSchema>;
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses the environment, reading `<NAME>_FILE` secrets (src/config/secret-files.ts) first; throws one
 * INVALID_CONFIG error listing every bad variable.
 */
export function loadConfig(env: Env = process.env, readSecretFile?: ReadSecretFile): Config {
  const secrets = resolveSecretFiles(env, readSecretFile);
  const result = configSchema
    .superRefine((config, ctx) => {
      checkRanges(config, ctx);
      checkRedisMode(config, secrets.env, ctx);
    })
    .safeParse(secrets.env);
  if (result.success && secrets.problems.length === 0) {
    acceptConfiguredRegions([result.data.DCS_REGION, ...(result.data.DCS_EXTRA_REGIONS ?? [])]);
    return result.data;
  }
  const issues = [
    ...secrets.problems.map((p) => ({ field: p.field, message: p.message })),
    ...(result.error?.issues ?? []).map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
  ];
  const problems = issues.map((issue) => `${issue.field}: ${issue.message}`);
  const fields = new Set(issues.map((issue) => issue.field));
  throw new CleanupError('INVALID_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`, {
    field: [...fields].join(','),
  });
}

/** Pairs of settings that must be in order. */
function checkRanges(config: Config, ctx: z.RefinementCtx): void {
  checkCredentialAliases(config, ctx);
  checkEventsSettings(config, ctx);
  if (config.WORKER_RATE_AUTO_MAX < config.WORKER_RATE_AUTO_MIN) {
    ctx.addIssue({
      code: 'custom',
      path: ['WORKER_RATE_AUTO_MAX'],
      message: 'must be at least WORKER_RATE_AUTO_MIN',
    });
  }
  if (config.RETRY_THROTTLE_MAX_MS < config.RETRY_THROTTLE_MIN_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['RETRY_THROTTLE_MAX_MS'],
      message: 'must be at least RETRY_THROTTLE_MIN_MS',
    });
  }
  // A purge listing sends nothing until it ends: a shorter idle timeout would cut it.
  if (config.API_CONNECTION_TIMEOUT_MS <= config.API_PURGE_DEADLINE_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['API_CONNECTION_TIMEOUT_MS'],
      message: 'must be greater than API_PURGE_DEADLINE_MS',
    });
  }
}

/** `url` with its password, if any, shown as `****`: a REDIS_URL fit to print. */
export function maskUrlPassword(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\/\/[^@/]*@/, '//****@');
  const parsed = new URL(url);
  if (parsed.password === '') return url;
  parsed.password = '****';
  return parsed.toString();
}

/**
 * Most finished jobs to keep: enough for every job the rate limit lets finish within the dedupe
 * window, so the window's guarantee holds (200/s is Huawei's own limit when ours is off).
 */
export function keptCompletedJobs(
  config: Pick<Config, 'JOBS_KEEP_COMPLETED' | 'JOBS_DEDUPE_WINDOW_SEC' | 'WORKER_RATE_LIMIT'>,
): number {
  if (config.JOBS_KEEP_COMPLETED > 0) return config.JOBS_KEEP_COMPLETED;
  const rate = config.WORKER_RATE_LIMIT;
  const perSecond = rate === 'auto' || rate === 0 ? 200 : rate;
  return perSecond * config.JOBS_DEDUPE_WINDOW_SEC;
}

/** The static credentials of the environment (aliases included); INVALID_CONFIG naming what is missing. */
export function requireCredentials(config: Config): Credentials {
  const keys = requireStaticKeys(config);
  return new Credentials(keys.ak, keys.sk, keys.securityToken);
}

/** The base URL for `region`: DCS_ENDPOINT when set, else the public endpoint of the region. */
export function resolveEndpoint(
  config: Pick<Config, 'DCS_ENDPOINT' | 'DCS_REGION'>,
  region?: string,
): string {
  if (config.DCS_ENDPOINT !== undefined) return config.DCS_ENDPOINT.replace(/\/+$/, '');
  const r = region ?? config.DCS_REGION;
  // The configured region itself is trusted; any other must be one this process accepts.
  const problem = r === config.DCS_REGION ? undefined : findRegionProblem(r);
  if (problem !== undefined || !REGION_PATTERN.test(r)) {
    throw new CleanupError('INVALID_CONFIG', `region ${problem ?? 'must look like cn-north-4'}`, {
      field: 'region',
    });
  }
  return `https://dcs.${r}.myhuaweicloud.com`;
}
