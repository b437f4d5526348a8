import { describe, expect, it } from 'vitest';
import {
  isAllowedEndpoint,
  keptCompletedJobs,
  loadConfig,
  maskUrlPassword,
  REGION_PATTERN,
  requireCredentials,
  resolveEndpoint,
  type Env,
} from '../../../src/config/config.js';
import { hashTagOf, parseHostPorts, redisModeOf } from '../../../src/config/redis-settings.js';
import { DEFAULT_RETRY_POLICY, buildRetryPolicy, type RetryPolicy } from '../../../src/queue/retry-policy.js';
import { configError } from '../../support/config-error.js';

/** The policy without `attempts`, which the producer sets per job rather than the worker. */
function omitAttempts(policy: RetryPolicy): Omit<RetryPolicy, 'attempts'> {
  const { attempts: _attempts, ...rest } = policy;
  return rest;
}

describe('loadConfig defaults', () => {
  it('gives every default from an empty environment', () => {
    expect(loadConfig({})).toEqual({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CLUSTER_NODES: undefined,
      REDIS_SENTINELS: undefined,
      REDIS_SENTINEL_MASTER: undefined,
      REDIS_SENTINEL_PASSWORD: undefined,
      REDIS_USERNAME: undefined,
      REDIS_PASSWORD: undefined,
      REDIS_TLS: false,
      REDIS_ALLOW_EVICTION: false,
      CLEANUP_PREFIX: 'dcs-cleanup',
      CLOUD_SDK_AK: undefined,
      CLOUD_SDK_SK: undefined,
      CLOUD_SDK_SECURITY_TOKEN: undefined,
      CLOUD_SDK_CREDENTIALS_SOURCE: 'env',
      HUAWEICLOUD_SDK_AK: undefined,
      HUAWEICLOUD_SDK_SK: undefined,
      HUAWEICLOUD_SDK_SECURITY_TOKEN: undefined,
      CLOUD_SDK_CREDENTIALS_FILE: undefined,
      CLOUD_SDK_PROFILE: 'default',
      CLOUD_SDK_FILE_RECHECK_MS: 10_000,
      HUAWEICLOUD_METADATA_URL: 'http://169.254.169.254',
      HUAWEICLOUD_IAM_ENDPOINT: undefined,
      CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: undefined,
      CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME: undefined,
      CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID: undefined,
      CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS: 3_600,
      CLOUD_SDK_REFRESH_MARGIN_MS: 900_000,
      CLOUD_SDK_REFRESH_JITTER_MS: 60_000,
      DCS_REGION: 'cn-north-4',
      DCS_EXTRA_REGIONS: undefined,
      DCS_ENDPOINT: undefined,
      DCS_PROJECT_ID: undefined,
      DCS_CONNECT_TIMEOUT_MS: 5_000,
      DCS_HEADERS_TIMEOUT_MS: 15_000,
      DCS_BODY_TIMEOUT_MS: 15_000,
      DCS_CLIENT_CACHE_SIZE: 32,
      DCS_REQUEST_TIMEOUT_MS: 30_000,
      NODE_TLS_REJECT_UNAUTHORIZED: undefined,
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: 32,
      WORKER_RATE_LIMIT: 50,
      WORKER_RATE_AUTO_START: 50,
      WORKER_RATE_AUTO_MIN: 1,
      WORKER_RATE_AUTO_MAX: 1_000,
      WORKER_RATE_AUTO_STEP: 4,
      WORKER_RATE_AUTO_CUT: 0.9,
      WORKER_RATE_AUTO_COOLDOWN_MS: 1_000,
      METRICS_PORT: 0,
      METRICS_HOST: '127.0.0.1',
      WORKER_HEALTH_GRACE_MS: 120_000,
      DEAD_LETTER_MAX_AGE_DAYS: 30,
      DEAD_LETTER_MAX_COUNT: 100_000,
      RUNS_RETENTION_DAYS: 30,
      RUNS_MAX_COUNT: 10_000,
      JOBS_DEDUPE_WINDOW_SEC: 3_600,
      JOBS_KEEP_COMPLETED: 0,
      CLEANUP_API_TOKEN: undefined,
      CLEANUP_API_TOKENS_FILE: undefined,
      CLEANUP_WEBHOOK_URL: undefined,
      CLEANUP_WEBHOOKS_FILE: undefined,
      CLEANUP_WEBHOOK_SECRET: undefined,
      WEBHOOK_ATTEMPTS: 12,
      WEBHOOK_BACKOFF_MS: 10_000,
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_CONCURRENCY: 2,
      DEAD_LETTER_ALERT_COUNT: 0,
      DEAD_LETTER_ALERT_GROWTH: 0,
      DEAD_LETTER_ALERT_INTERVAL_SEC: 60,
      CLEANUP_BULL_BOARD: false,
      API_HOST: '127.0.0.1',
      API_PORT: 8080,
      API_REQUEST_TIMEOUT_MS: 30_000,
      API_CONNECTION_TIMEOUT_MS: 150_000,
      API_PURGE_DEADLINE_MS: 120_000,
      API_PURGE_PLAN_LIMIT: 1_000,
      WORKER_PROBE_INTERVAL_MS: 120_000,
      WORKER_SHUTDOWN_TIMEOUT_SEC: 10,
      WORKER_LOCK_DURATION_MS: 30_000,
      RETRY_IN_PROCESS_RETRIES: 3,
      RETRY_IN_PROCESS_BASE_MS: 200,
      RETRY_IN_PROCESS_CAP_MS: 3_000,
      RETRY_BACKOFF_BASE_MS: 5_000,
      RETRY_BACKOFF_CAP_MS: 300_000,
      RETRY_BUSY_FLOOR_MS: 30_000,
      RETRY_BUSY_JITTER_MS: 30_000,
      RETRY_THROTTLE_MIN_MS: 2_000,
      RETRY_THROTTLE_MAX_MS: 5_000,
      RETRY_THROTTLE_CAP_MS: 60_000,
      RETRY_MAX_STARTS: 500,
      EMULATOR_SK: undefined,
      EMULATOR_SECURITY_TOKEN: undefined,
    });
  });

  it('gives the retry policy defaults of src/queue/retry-policy.ts', () => {
    const config = loadConfig({});
    expect(buildRetryPolicy(config)).toEqual(omitAttempts(DEFAULT_RETRY_POLICY));
  });

  it('refuses a throttle pause range that ends before it starts', () => {
    const err = configError(() => loadConfig({ RETRY_THROTTLE_MIN_MS: '500', RETRY_THROTTLE_MAX_MS: '100' }));
    expect(err.field).toBe('RETRY_THROTTLE_MAX_MS');
    expect(err.message).toContain('must be at least RETRY_THROTTLE_MIN_MS');
  });

  it('refuses an API connection timeout that would cut a purge listing before its deadline', () => {
    const err = configError(() =>
      loadConfig({ API_PURGE_DEADLINE_MS: '200000', API_CONNECTION_TIMEOUT_MS: '150000' }),
    );
    expect(err.field).toBe('API_CONNECTION_TIMEOUT_MS');
    expect(err.message).toContain('must be greater than API_PURGE_DEADLINE_MS');
  });

  it('masks the password of a REDIS_URL for printing, and nothing else', () => {
    expect(maskUrlPassword('redis://:s3cret@10.0.0.5:6380/2')).toBe('redis://:****@10.0.0.5:6380/2');
    expect(maskUrlPassword('rediss://app:s3cret@redis.example:6379')).toBe(
      'rediss://app:****@redis.example:6379',
    );
    expect(maskUrlPassword('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(maskUrlPassword('redis://:s3cret@[bad')).not.toContain('s3cret');
  });

  it('refuses to start with TLS certificate verification turned off (NODE_TLS_REJECT_UNAUTHORIZED=0)', () => {
    const err = configError(() => loadConfig({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }));
    expect(err.field).toBe('NODE_TLS_REJECT_UNAUTHORIZED');
    expect(err.message).toContain('NODE_TLS_REJECT_UNAUTHORIZED: must be unset or 1');
    expect(err.message).toContain('TLS certificate verification off');
    expect(loadConfig({ NODE_TLS_REJECT_UNAUTHORIZED: '1' }).NODE_TLS_REJECT_UNAUTHORIZED).toBe('1');
  });

  it('keeps every job the rate limit lets finish within the dedupe window, unless told a number', () => {
    expect(keptCompletedJobs(loadConfig({}))).toBe(180_000);
    expect(keptCompletedJobs(loadConfig({ WORKER_RATE_LIMIT: '0' }))).toBe(720_000);
    expect(keptCompletedJobs(loadConfig({ JOBS_DEDUPE_WINDOW_SEC: '600', WORKER_RATE_LIMIT: '10' }))).toBe(
      6_000,
    );
    expect(keptCompletedJobs(loadConfig({ JOBS_KEEP_COMPLETED: '5000' }))).toBe(5_000);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' })).not.toHaveProperty('PATH');
  });

  it('treats an empty or blank optional string as unset', () => {
    const config = loadConfig({
      CLOUD_SDK_AK: '',
      CLOUD_SDK_SK: '   ',
      DCS_ENDPOINT: '',
      DCS_PROJECT_ID: '',
    });
    expect(config.CLOUD_SDK_AK).toBeUndefined();
    expect(config.CLOUD_SDK_SK).toBeUndefined();
    expect(config.DCS_ENDPOINT).toBeUndefined();
    expect(config.DCS_PROJECT_ID).toBeUndefined();
  });

  it('reads whole numbers, trimming spaces', () => {
    const config = loadConfig({ WORKER_CONCURRENCY: ' 8 ', WORKER_RATE_LIMIT: '0', API_PORT: '0' });
    expect(config).toMatchObject({ WORKER_CONCURRENCY: 8, WORKER_RATE_LIMIT: 0, API_PORT: 0 });
  });

  it.each(['', ' ', '1.5', '1e3', '0x10', '-1', '12abc', 'Infinity'])(
    'rejects %j as a number instead of reading it as 0 or something else',
    (value) => {
      const err = configError(() => loadConfig({ WORKER_RATE_LIMIT: value }));
      expect(err.field).toBe('WORKER_RATE_LIMIT');
    },
  );

  it('reads WORKER_RATE_LIMIT=auto and refuses an automatic range upside down, naming the fields', () => {
    expect(loadConfig({ WORKER_RATE_LIMIT: ' auto ' }).WORKER_RATE_LIMIT).toBe('auto');
    expect(keptCompletedJobs(loadConfig({ WORKER_RATE_LIMIT: 'auto' }))).toBe(720_000);
    expect(configError(() => loadConfig({ WORKER_RATE_LIMIT: 'AUTO' })).field).toBe('WORKER_RATE_LIMIT');
    expect(configError(() => loadConfig({ WORKER_RATE_LIMIT: '10001' })).field).toBe('WORKER_RATE_LIMIT');
    const err = configError(() => loadConfig({ WORKER_RATE_AUTO_MIN: '100', WORKER_RATE_AUTO_MAX: '10' }));
    expect(err.field).toBe('WORKER_RATE_AUTO_MAX');
    for (const cut of ['1', '0', '1.5', 'half']) {
      expect(configError(() => loadConfig({ WORKER_RATE_AUTO_CUT: cut })).field).toBe('WORKER_RATE_AUTO_CUT');
    }
    expect(loadConfig({ WORKER_RATE_AUTO_CUT: '0.5' }).WORKER_RATE_AUTO_CUT).toBe(0.5);
  });

  it('rejects numbers outside their range', () => {
    const err = configError(() => loadConfig({ WORKER_CONCURRENCY: '0', API_PORT: '65536' }));
    expect(err.field).toBe('WORKER_CONCURRENCY,API_PORT');
  });
});

describe('loadConfig errors', () => {
  const bad: Env = {
    REDIS_URL: 'http://cache:6379',
    CLEANUP_PREFIX: 'has space',
    DCS_REGION: 'CN-NORTH-4',
    DCS_ENDPOINT: 'http://dcs.example.com',
    DCS_PROJECT_ID: 'p/1',
    DCS_CONNECT_TIMEOUT_MS: '10',
    LOG_LEVEL: 'verbose',
    WORKER_CONCURRENCY: 'many',
    METRICS_PORT: '-1',
    API_HOST: '',
  };

  it('lists every bad variable in one INVALID_CONFIG error', () => {
    const err = configError(() => loadConfig(bad));
    const names = Object.keys(bad);
    expect(err.field?.split(',').sort()).toEqual([...names].sort());
    for (const name of names) expect(err.message).toMatch(new RegExp(`^  ${name}: `, 'm'));
    expect(err.message.split('\n')[0]).toBe('invalid configuration:');
  });

  it('names a variable once even when it breaks several rules', () => {
    const err = configError(() => loadConfig({ DCS_ENDPOINT: 'ftp://dcs.example.com/?x=1' }));
    expect(err.field).toBe('DCS_ENDPOINT');
  });

  it('never echoes a value: a URL may carry a password, and secrets sit next to bad values', () => {
    const err = configError(() =>
      loadConfig({
        REDIS_URL: 'http://:redis-password@cache:6379',
        CLOUD_SDK_SK: 'the-secret-key',
        CLOUD_SDK_SECURITY_TOKEN: 'the-token',
        CLEANUP_API_TOKEN: 'the-api-token',
        LOG_LEVEL: 'loud',
      }),
    );
    const rendered = `${err.message} ${JSON.stringify(err)}`;
    for (const secret of ['redis-password', 'the-secret-key', 'the-token', 'the-api-token']) {
      expect(rendered).not.toContain(secret);
    }
  });
});

describe('Redis modes', () => {
  it('reads a cluster seed list and a sentinel set', () => {
    const cluster = loadConfig({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001',
      CLEANUP_PREFIX: '{dcs}',
    });
    expect(redisModeOf(cluster)).toBe('cluster');
    expect(parseHostPorts(cluster.REDIS_CLUSTER_NODES!)).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
    ]);
    const sentinel = loadConfig({
      REDIS_SENTINELS: 's1:26379,[::1]:26380',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_PASSWORD: 'p',
      REDIS_TLS: 'true',
    });
    expect(redisModeOf(sentinel)).toBe('sentinel');
    expect(sentinel.REDIS_TLS).toBe(true);
    expect(parseHostPorts(sentinel.REDIS_SENTINELS!)[1]).toEqual({ host: '::1', port: 26380 });
    expect(redisModeOf(loadConfig({}))).toBe('standalone');
  });

  it('refuses two modes at once, naming the variables', () => {
    const err = configError(() =>
      loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000', CLEANUP_PREFIX: '{x}' }),
    );
    expect(err.message).toContain('set only one of REDIS_URL, REDIS_CLUSTER_NODES');
    const three = configError(() =>
      loadConfig({
        REDIS_CLUSTER_NODES: 'a:7000',
        REDIS_SENTINELS: 'b:1',
        REDIS_SENTINEL_MASTER: 'm',
        CLEANUP_PREFIX: '{x}',
      }),
    );
    expect(three.message).toContain('REDIS_CLUSTER_NODES, REDIS_SENTINELS');
  });

  it.each(['dcs-cleanup', '{}dcs', 'dcs}{x', '{}{x}'])(
    'refuses the prefix %j on a cluster: its keys would spread over slots',
    (prefix) => {
      const err = configError(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', CLEANUP_PREFIX: prefix }));
      expect(err.field).toBe('CLEANUP_PREFIX');
      expect(err.message).toContain('must carry a hash tag such as {dcs-cleanup} on Redis Cluster');
    },
  );

  it('finds the hash tag Redis Cluster hashes', () => {
    expect(hashTagOf('{dcs-cleanup}')).toBe('dcs-cleanup');
    expect(hashTagOf('acme:{dcs}:x')).toBe('dcs');
    expect(hashTagOf('{}{x}')).toBeUndefined();
    expect(hashTagOf('plain')).toBeUndefined();
  });

  it.each([
    [{ REDIS_SENTINELS: 'a:1' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_SENTINEL_PASSWORD: 'x' }, 'REDIS_SENTINEL_PASSWORD'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'x' }, 'REDIS_PASSWORD'],
    [{ REDIS_TLS: 'true' }, 'REDIS_TLS'],
    [{ REDIS_TLS: 'yes' }, 'REDIS_TLS'],
    [{ REDIS_ALLOW_EVICTION: '1' }, 'REDIS_ALLOW_EVICTION'],
    [{ REDIS_CLUSTER_NODES: 'a', CLEANUP_PREFIX: '{x}' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'a:0', CLEANUP_PREFIX: '{x}' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: 'a:1,b:70000', REDIS_SENTINEL_MASTER: 'm' }, 'REDIS_SENTINELS'],
  ])('refuses %j naming %s', (env, field) => {
    expect(configError(() => loadConfig(env)).field).toBe(field);
  });

  it('never echoes a Redis password', () => {
    const err = configError(() =>
      loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'hunter2-redis' }),
    );
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain('hunter2-redis');
  });
});

describe('DCS_ENDPOINT', () => {
  it.each([
    'https://dcs.cn-north-4.myhuaweicloud.com',
    'https://dcs.example.com:8443/',
    'https://10.0.0.5',
    'http://127.0.0.1:8080',
    'http://127.5.6.7:1234',
    'http://localhost:3000',
    'http://LOCALHOST',
    'http://[::1]:8080',
  ])('accepts %s', (endpoint) => {
    expect(loadConfig({ DCS_ENDPOINT: endpoint }).DCS_ENDPOINT).toBe(endpoint);
  });

  it.each([
    ['plain http to a public host', 'http://dcs.cn-north-4.myhuaweicloud.com'],
    ['plain http to a private address', 'http://10.0.0.5'],
    ['a loopback look-alike', 'http://127.0.0.1.evil.com'],
    ['a localhost look-alike', 'http://localhost.evil.com'],
    ['another scheme', 'ftp://127.0.0.1'],
    ['a relative URL', 'dcs.cn-north-4.myhuaweicloud.com'],
    ['a query', 'https://dcs.example.com/?region=x'],
    ['a fragment', 'https://dcs.example.com/#x'],
  ])('refuses %s (%s)', (_, endpoint) => {
    const err = configError(() => loadConfig({ DCS_ENDPOINT: endpoint }));
    expect(err.field).toBe('DCS_ENDPOINT');
  });

  it('explains why plain http is refused', () => {
    const err = configError(() => loadConfig({ DCS_ENDPOINT: 'http://dcs.example.com' }));
    expect(err.message).toContain('loopback');
  });

  it('is what isAllowedEndpoint decides for URLs', () => {
    expect(isAllowedEndpoint(new URL('https://x.example'))).toBe(true);
    expect(isAllowedEndpoint(new URL('http://127.0.0.1'))).toBe(true);
    expect(isAllowedEndpoint(new URL('http://x.example'))).toBe(false);
  });
});

describe('DCS_REGION', () => {
  it.each(['cn-north-4', 'ap-southeast-1', 'eu-west-101', 'ru-northwest-2', 'ae-ad-1', 'la-north-2'])(
    'accepts %s',
    (region) => {
      expect(loadConfig({ DCS_REGION: region }).DCS_REGION).toBe(region);
      expect(REGION_PATTERN.test(region)).toBe(true);
    },
  );

  it.each(['CN-NORTH-4', 'cn_north_4', 'evil.com/x', '', 'cn-north', 'cn-north-4.evil.com', 'cn-north-4/'])(
    'rejects %j',
    (region) => {
      const err = configError(() => loadConfig({ DCS_REGION: region }));
      expect(err.field).toBe('DCS_REGION');
    },
  );
});

describe('CLEANUP_PREFIX', () => {
  it.each(['dcs-cleanup', '{dcs-cleanup}', '{hash-tag}:jobs', 'a.b_c'])('accepts %s', (prefix) => {
    expect(loadConfig({ CLEANUP_PREFIX: prefix }).CLEANUP_PREFIX).toBe(prefix);
  });

  it.each(['', 'has space', 'a/b', 'x'.repeat(65)])('rejects %j', (prefix) => {
    expect(configError(() => loadConfig({ CLEANUP_PREFIX: prefix })).field).toBe('CLEANUP_PREFIX');
  });
});

describe('requireCredentials', () => {
  it('names both variables when both are missing', () => {
    const err = configError(() => requireCredentials(loadConfig({})));
    expect(err.field).toBe('CLOUD_SDK_AK,CLOUD_SDK_SK');
    expect(err.message).toContain('CLOUD_SDK_AK and CLOUD_SDK_SK');
  });

  it('names only the SK when the AK is set', () => {
    const err = configError(() => requireCredentials(loadConfig({ CLOUD_SDK_AK: 'HPUAEXAMPLEAK0000001' })));
    expect(err.field).toBe('CLOUD_SDK_SK');
    expect(err.message).not.toContain('CLOUD_SDK_AK');
  });

  it('names only the AK when the SK is set, without showing the SK', () => {
    const err = configError(() => requireCredentials(loadConfig({ CLOUD_SDK_SK: 'the-secret-key' })));
    expect(err.field).toBe('CLOUD_SDK_AK');
    expect(JSON.stringify(err) + err.message).not.toContain('the-secret-key');
  });

  it('counts an empty variable as missing', () => {
    const err = configError(() => requireCredentials(loadConfig({ CLOUD_SDK_AK: 'AK', CLOUD_SDK_SK: '' })));
    expect(err.field).toBe('CLOUD_SDK_SK');
  });

  it('builds temporary credentials when a security token is set', () => {
    const credentials = requireCredentials(
      loadConfig({
        CLOUD_SDK_AK: 'HPUAEXAMPLEAK0000001',
        CLOUD_SDK_SK: 'sk',
        CLOUD_SDK_SECURITY_TOKEN: 'tok',
      }),
    );
    expect(credentials.accessKeyId).toBe('HPUAEXAMPLEAK0000001');
    expect(credentials.securityToken()).toBe('tok');
  });

  it('builds permanent credentials without a token', () => {
    const credentials = requireCredentials(loadConfig({ CLOUD_SDK_AK: 'AK', CLOUD_SDK_SK: 'sk' }));
    expect(credentials.securityToken()).toBeUndefined();
  });
});

describe('resolveEndpoint', () => {
  it('builds the public endpoint of the configured region', () => {
    expect(resolveEndpoint(loadConfig({}))).toBe('https://dcs.cn-north-4.myhuaweicloud.com');
  });

  it('prefers the region passed in (a job region) over the configured one', () => {
    expect(resolveEndpoint(loadConfig({ DCS_REGION: 'cn-north-4' }), 'ap-southeast-1')).toBe(
      'https://dcs.ap-southeast-1.myhuaweicloud.com',
    );
  });

  it('uses DCS_ENDPOINT for every region, without trailing slashes', () => {
    const config = loadConfig({ DCS_ENDPOINT: 'http://127.0.0.1:8080//' });
    expect(resolveEndpoint(config)).toBe('http://127.0.0.1:8080');
    expect(resolveEndpoint(config, 'eu-west-101')).toBe('http://127.0.0.1:8080');
  });

  it.each(['evil.com/x', 'cn-north-4.evil.com#', '', 'CN-NORTH-4'])(
    'refuses to build a host from the region %j',
    (region) => {
      const err = configError(() => resolveEndpoint(loadConfig({}), region));
      expect(err.field).toBe('region');
    },
  );
});
