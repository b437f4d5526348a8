import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/config.js';
import { SECRET_FILE_VARIABLES } from '../../../src/config/secret-files.js';
import { configError } from '../../support/config-error.js';

const SECRET = 'sk-from-a-mounted-file-0123456789';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-secret-files-'));
  await writeFile(join(dir, 'sk'), `${SECRET}\n`);
  await writeFile(join(dir, 'token'), 'api-token-from-file');
  await writeFile(join(dir, 'redis-url'), 'redis://:pa55@redis:6379\n');
  await writeFile(join(dir, 'empty'), '\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('<NAME>_FILE secrets', () => {
  it('reads a secret from its file, without the trailing newline', () => {
    const config = loadConfig({
      CLOUD_SDK_AK: 'AK0000000000000001',
      CLOUD_SDK_SK_FILE: join(dir, 'sk'),
      CLEANUP_API_TOKEN_FILE: join(dir, 'token'),
      REDIS_URL_FILE: join(dir, 'redis-url'),
    });
    expect(config.CLOUD_SDK_SK).toBe(SECRET);
    expect(config.CLEANUP_API_TOKEN).toBe('api-token-from-file');
    expect(config.REDIS_URL).toBe('redis://:pa55@redis:6379');
  });

  it('refuses a value and its _FILE both set, naming both', () => {
    const err = configError(() => loadConfig({ CLOUD_SDK_SK: 'inline', CLOUD_SDK_SK_FILE: join(dir, 'sk') }));
    expect(err.message).toContain('CLOUD_SDK_SK,CLOUD_SDK_SK_FILE: set CLOUD_SDK_SK or CLOUD_SDK_SK_FILE');
    expect(err.field).toBe('CLOUD_SDK_SK,CLOUD_SDK_SK_FILE');
  });

  it('treats an empty value next to a _FILE as unset (compose passes ${VAR:-} as empty)', () => {
    expect(loadConfig({ CLOUD_SDK_SK: '', CLOUD_SDK_SK_FILE: join(dir, 'sk') }).CLOUD_SDK_SK).toBe(SECRET);
  });

  it('names a missing or empty file, and every other bad variable in the same error', () => {
    const err = configError(() =>
      loadConfig({
        CLOUD_SDK_SK_FILE: join(dir, 'missing'),
        CLEANUP_API_TOKEN_FILE: join(dir, 'empty'),
        WORKER_CONCURRENCY: 'many',
      }),
    );
    expect(err.message).toContain(`CLOUD_SDK_SK_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`);
    expect(err.message).toContain(`CLEANUP_API_TOKEN_FILE: ${join(dir, 'empty')} is empty`);
    expect(err.message).toContain('WORKER_CONCURRENCY');
    expect(err.field).toBe('CLOUD_SDK_SK_FILE,CLEANUP_API_TOKEN_FILE,WORKER_CONCURRENCY');
  });

  it('never puts the content of a file in an error', () => {
    const err = configError(() =>
      loadConfig({ REDIS_URL_FILE: join(dir, 'sk'), CLOUD_SDK_SK_FILE: join(dir, 'sk') }),
    );
    expect(err.message).toContain('REDIS_URL');
    expect(JSON.stringify(err.toJSON())).not.toContain(SECRET);
    expect(err.message).not.toContain(SECRET);
  });

  it('offers _FILE for the secrets and the Redis URL (which may carry a password)', () => {
    expect(SECRET_FILE_VARIABLES).toEqual(
      expect.arrayContaining([
        'CLOUD_SDK_SK',
        'CLOUD_SDK_SECURITY_TOKEN',
        'CLEANUP_API_TOKEN',
        'REDIS_URL',
        'REDIS_PASSWORD',
        'REDIS_SENTINEL_PASSWORD',
      ]),
    );
  });

  it('reads the cluster password from a file', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
      CLEANUP_PREFIX: '{dcs}',
      REDIS_PASSWORD_FILE: join(dir, 'sk'),
    });
    expect(config.REDIS_PASSWORD).toBe(SECRET);
  });
});
