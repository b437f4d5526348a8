/**
 * The one configuration schema: every setting, read from the environment once.
 * Only this folder reads `process.env`; docs/configuration.md lists the same variables (a test checks).
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { Credentials } from '../huawei/credentials.js';
import { checkHostPorts, checkRedisMode } from './redis-settings.js';

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;
/** Huawei region ids: `cn-north-4`, `ap-southeast-1`, `eu-west-101`, `ru-northwest-2`, `ae-ad-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]{2,12}){1,2}-\d{1,3}$/;

/** A string; empty or blank counts as unset. */
export const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A decimal whole number in [min, max]; unset means `def`. An empty value is an error, not 0. */
const intFrom = (def: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .default(def);

/** 127.0.0.0/8, ::1 and localhost: addresses other machines cannot reach. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.test(host);
}

/** True when `url` is https, or plain http to a loopback host. */
export function isAllowedEndpoint(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

/** Why DCS_ENDPOINT is unusable, or undefined when it is fine. */
function findEndpointProblem(value: string): string | undefined {
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  if (!isAllowedEndpoint(url)) {
    return 'must be https://, or plain http:// to a loopback host (credentials must not travel in clear text)';
  }
  if (url.search !== '' || url.hash !== '') return 'must not have a query or a fragment';
  return undefined;
}

export const configSchema = z.object({
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .describe(
      'Standalone Redis URL (redis:// or rediss://) shared by producers, workers and the API; not with REDIS_CLUSTER_NODES or REDIS_SENTINELS.',
    )
    .refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), 'must be a redis:// or rediss:// URL'),
  REDIS_CLUSTER_NODES: optionalString
    .describe(
      'Redis Cluster seed nodes, host:port,host:port (the rest is discovered); selects cluster mode instead of REDIS_URL.',
    )
    .superRefine((value, ctx) => checkHostPorts(value, ctx)),
  REDIS_SENTINELS: optionalString
    .describe(
      'Redis Sentinel addresses, host:port,host:port; selects sentinel mode (with REDIS_SENTINEL_MASTER) instead of REDIS_URL.',
    )
    .superRefine((value, ctx) => checkHostPorts(value, ctx)),
  REDIS_SENTINEL_MASTER: optionalString.describe(
    'Name of the master the sentinels watch (sentinel mode only).',
  ),
  REDIS_SENTINEL_PASSWORD: optionalString.describe(
    'Password of the sentinels themselves, when they have one (sentinel mode only). Never logged.',
  ),
  REDIS_USERNAME: optionalString.describe(
    'Redis ACL user for cluster and sentinel modes (in standalone mode it goes in REDIS_URL).',
  ),
  REDIS_PASSWORD: optionalString.describe(
    'Redis password for cluster and sentinel modes (in standalone mode it goes in REDIS_URL). Never logged.',
  ),
  REDIS_TLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      'true: TLS to every Redis node and sentinel in cluster and sentinel modes (standalone: rediss://).',
    ),
  REDIS_ALLOW_EVICTION: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      'true: let the worker and the API run on a Redis whose maxmemory-policy is not noeviction (queued jobs may vanish).',
    ),
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
  DCS_REGION: z
    .string()
    .default('cn-north-4')
    .describe('Default region, used for jobs without a region and to build the endpoint.')
    .refine((v) => REGION_PATTERN.test(v), 'must look like cn-north-4'),
  DCS_ENDPOINT: optionalString
    .describe('Full base URL overriding https://dcs.{region}.myhuaweicloud.com for every region.')
    .superRefine((value, ctx) => {
      const problem = value === undefined ? undefined : findEndpointProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  DCS_PROJECT_ID: optionalString
    .describe('Default project id for purges and enqueues that name none.')
    .refine(
      (v) => v === undefined || /^[A-Za-z0-9-]{1,64}$/.test(v),
      'letters, digits and - only, at most 64',
    ),
  DCS_CONNECT_TIMEOUT_MS: intFrom(5_000, 100, 120_000).describe('TCP/TLS connect timeout for DCS calls.'),
  DCS_HEADERS_TIMEOUT_MS: intFrom(15_000, 100, 300_000).describe('Time to wait for response headers.'),
  DCS_BODY_TIMEOUT_MS: intFrom(15_000, 100, 300_000).describe('Time allowed between body chunks.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level; debug adds one record per DCS request.'),
  WORKER_CONCURRENCY: intFrom(32, 1, 1000).describe('Jobs processed at once by one worker process.'),
  WORKER_RATE_LIMIT: intFrom(50, 0, 10_000).describe(
    'DCS requests per second across all workers of this prefix; 0 turns the limit off.',
  ),
  METRICS_PORT: intFrom(0, 0, 65_535).describe(
    'Port of the worker Prometheus /metrics endpoint; 0 turns it off.',
  ),
  CLEANUP_API_TOKEN: optionalString.describe(
    'Bearer token required by every /v1 route of the HTTP API. Never logged.',
  ),
  API_HOST: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('127.0.0.1')
    .describe('Address the HTTP API listens on.'),
  API_PORT: intFrom(8080, 0, 65_535).describe('Port the HTTP API listens on.'),
  WORKER_PROBE_INTERVAL_MS: intFrom(120_000, 100, 3_600_000).describe(
    'While the circuit breaker holds the queue paused, how often one worker probes DCS with one signed call.',
  ),
  RETRY_IN_PROCESS_RETRIES: intFrom(3, 0, 10).describe(
    'Quick retries of a transient failure (5xx, timeout, reset) inside one job run, before a BullMQ retry.',
  ),
  RETRY_IN_PROCESS_BASE_MS: intFrom(200, 0, 60_000).describe(
    'Full-jitter base of the quick retries: the n-th waits up to base x 2^n ms.',
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
    'After a 429 without Retry-After the whole queue pauses between the min and max (Huawei suggests 2-5 s).',
  ),
  RETRY_THROTTLE_MAX_MS: intFrom(5_000, 0, 600_000).describe(
    'Upper end of the pause after a 429 without Retry-After; at least RETRY_THROTTLE_MIN_MS.',
  ),
  RETRY_THROTTLE_CAP_MS: intFrom(60_000, 0, 3_600_000).describe('A longer Retry-After is cut to this.'),
  RETRY_MAX_STARTS: intFrom(500, 1, 100_000).describe(
    'A job started more often than this (throttled, busy or interrupted every time) is dead-lettered.',
  ),
});

export type Config = z.infer<typeof configSchema>;
export type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment; throws one INVALID_CONFIG error listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const result = configSchema
    .superRefine((config, ctx) => {
      checkRanges(config, ctx);
      checkRedisMode(config, env, ctx);
    })
    .safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const fields = new Set(result.error.issues.map((issue) => issue.path.join('.')));
  throw new CleanupError('INVALID_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`, {
    field: [...fields].join(','),
  });
}

/** Pairs of settings that must be in order. */
function checkRanges(config: Config, ctx: z.RefinementCtx): void {
  if (config.RETRY_THROTTLE_MAX_MS < config.RETRY_THROTTLE_MIN_MS) {
    ctx.addIssue({
      code: 'custom',
      path: ['RETRY_THROTTLE_MAX_MS'],
      message: 'must be at least RETRY_THROTTLE_MIN_MS',
    });
  }
}

/** The credentials from the configuration; INVALID_CONFIG naming what is missing. */
export function requireCredentials(config: Config): Credentials {
  const missing = (['CLOUD_SDK_AK', 'CLOUD_SDK_SK'] as const).filter((name) => config[name] === undefined);
  if (missing.length > 0) {
    throw new CleanupError('INVALID_CONFIG', `missing credentials: set ${missing.join(' and ')}`, {
      field: missing.join(','),
    });
  }
  return new Credentials(config.CLOUD_SDK_AK!, config.CLOUD_SDK_SK!, config.CLOUD_SDK_SECURITY_TOKEN);
}

/** The base URL for `region`: DCS_ENDPOINT when set, else the public endpoint of the region. */
export function resolveEndpoint(
  config: Pick<Config, 'DCS_ENDPOINT' | 'DCS_REGION'>,
  region?: string,
): string {
  if (config.DCS_ENDPOINT !== undefined) return config.DCS_ENDPOINT.replace(/\/+$/, '');
  const r = region ?? config.DCS_REGION;
  if (!REGION_PATTERN.test(r)) {
    const shown = JSON.stringify(r.slice(0, 40));
    throw new CleanupError('INVALID_CONFIG', `region must look like cn-north-4, got ${shown}`, {
      field: 'region',
    });
  }
  return `https://dcs.${r}.myhuaweicloud.com`;
}
