import { describe, expect, it } from 'vitest';
import { loadConfig, requireCredentials } from '../../../src/config/config.js';
import { hasCredentialSource, resolveCredentialSettings } from '../../../src/config/credential-settings.js';
import { configError } from '../../support/config-error.js';

describe('credential settings', () => {
  it('accepts the official SDK variables as aliases of CLOUD_SDK_*', () => {
    const config = loadConfig({
      HUAWEICLOUD_SDK_AK: 'HPUAEXAMPLEAK0000001',
      HUAWEICLOUD_SDK_SK: 'the-secret-key',
      HUAWEICLOUD_SDK_SECURITY_TOKEN: 'the-token',
    });
    const credentials = requireCredentials(config);
    expect(credentials.accessKeyId).toBe('HPUAEXAMPLEAK0000001');
    expect(credentials.securityToken()).toBe('the-token');
    expect(hasCredentialSource(config)).toBe(true);
  });

  it('accepts an alias pair set to the same value, refuses one set to two values, naming both and no value', () => {
    expect(() => loadConfig({ CLOUD_SDK_AK: 'AKAKAKAK', HUAWEICLOUD_SDK_AK: 'AKAKAKAK' })).not.toThrow();
    const err = configError(() =>
      loadConfig({ CLOUD_SDK_SK: 'secret-one', HUAWEICLOUD_SDK_SK: 'secret-two' }),
    );
    expect(err.message).toContain('CLOUD_SDK_SK and HUAWEICLOUD_SDK_SK are both set and differ');
    expect(err.message).not.toContain('secret-one');
    expect(err.message).not.toContain('secret-two');
  });

  it('refuses an unknown source, naming the variable', () => {
    const err = configError(() => loadConfig({ CLOUD_SDK_CREDENTIALS_SOURCE: 'vault' }));
    expect(err.field).toBe('CLOUD_SDK_CREDENTIALS_SOURCE');
  });

  it('resolves the file source and requires its path', () => {
    const err = configError(() =>
      resolveCredentialSettings(loadConfig({ CLOUD_SDK_CREDENTIALS_SOURCE: 'file' })),
    );
    expect(err.field).toBe('CLOUD_SDK_CREDENTIALS_FILE');
    const settings = resolveCredentialSettings(
      loadConfig({
        CLOUD_SDK_CREDENTIALS_SOURCE: 'file',
        CLOUD_SDK_CREDENTIALS_FILE: '/etc/creds',
        CLOUD_SDK_PROFILE: 'prod',
      }),
    );
    expect(settings).toMatchObject({
      source: 'file',
      path: '/etc/creds',
      profile: 'prod',
      recheckMs: 10_000,
    });
  });

  it('resolves the metadata source with the default ECS address, needing no AK/SK', () => {
    const config = loadConfig({ CLOUD_SDK_CREDENTIALS_SOURCE: 'metadata' });
    expect(resolveCredentialSettings(config)).toMatchObject({
      source: 'metadata',
      metadataUrl: 'http://169.254.169.254',
      refreshMarginMs: 900_000,
    });
    expect(hasCredentialSource(config)).toBe(true);
  });

  it('refuses a metadata or IAM URL in clear text to a remote host', () => {
    const err = configError(() =>
      loadConfig({
        HUAWEICLOUD_METADATA_URL: 'http://metadata.example.com',
        HUAWEICLOUD_IAM_ENDPOINT: 'http://iam.example.com',
      }),
    );
    expect(err.field).toBe('HUAWEICLOUD_METADATA_URL,HUAWEICLOUD_IAM_ENDPOINT');
  });

  it('resolves assume_role: base keys, agency, domain, IAM endpoint from the region by default', () => {
    const base = { CLOUD_SDK_AK: 'BASEAK00', CLOUD_SDK_SK: 'base-sk', DCS_REGION: 'ap-southeast-1' };
    const noAgency = configError(() =>
      resolveCredentialSettings(loadConfig({ ...base, CLOUD_SDK_CREDENTIALS_SOURCE: 'assume_role' })),
    );
    expect(noAgency.field).toBe('CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME');
    const noDomain = configError(() =>
      resolveCredentialSettings(
        loadConfig({
          ...base,
          CLOUD_SDK_CREDENTIALS_SOURCE: 'assume_role',
          CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: 'a',
        }),
      ),
    );
    expect(noDomain.field).toBe('CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME,CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID');
    const noBase = configError(() =>
      resolveCredentialSettings(
        loadConfig({
          CLOUD_SDK_CREDENTIALS_SOURCE: 'assume_role',
          CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: 'a',
          CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID: 'd',
        }),
      ),
    );
    expect(noBase.message).toContain('base account');
    const settings = resolveCredentialSettings(
      loadConfig({
        ...base,
        CLOUD_SDK_CREDENTIALS_SOURCE: 'assume_role',
        CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: 'cleanup-agency',
        CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME: 'team-b',
      }),
    );
    expect(settings).toMatchObject({
      source: 'assume_role',
      iamEndpoint: 'https://iam.ap-southeast-1.myhuaweicloud.com',
      agencyName: 'cleanup-agency',
      domainName: 'team-b',
      durationSeconds: 3_600,
    });
  });

  it('refuses a duration outside what IAM accepts (900 to 86400 s)', () => {
    expect(configError(() => loadConfig({ CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS: '600' })).field).toBe(
      'CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS',
    );
  });
});
