/**
 * Where the deployment's account gets its AK/SK: the settings (part of the one config schema) and
 * their resolution into one {@link CredentialSourceSettings}, the shape an accounts file will reuse.
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { intFrom, optionalString } from './schema-parts.js';

export const CREDENTIAL_SOURCES = ['env', 'file', 'metadata', 'assume_role'] as const;
export type CredentialSourceName = (typeof CREDENTIAL_SOURCES)[number];

const LOOPBACK_OR_LINK_LOCAL = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|169\.254(\.\d{1,3}){2})$/i;

/** https, or plain http to loopback or a link-local address (the ECS metadata service). */
const serviceUrl = (what: string) =>
  optionalString.refine((v) => {
    if (v === undefined) return true;
    if (!URL.canParse(v)) return false;
    const url = new URL(v);
    const plainOk = url.protocol === 'http:' && LOOPBACK_OR_LINK_LOCAL.test(url.hostname);
    return (url.protocol === 'https:' || plainOk) && url.search === '' && url.hash === '';
  }, `must be an https:// URL (plain http:// only to loopback or 169.254.x.x) without query: ${what}`);

/** The settings spread into `configSchema`; docs/configuration.md lists them with the others. */
export const credentialSettingsShape = {
  CLOUD_SDK_CREDENTIALS_SOURCE: z
    .enum(CREDENTIAL_SOURCES, { error: 'must be env, file, metadata or assume_role' })
    .default('env')
    .describe(
      'Where the AK/SK come from: env (CLOUD_SDK_AK...), file (a credentials file), metadata (ECS agency), assume_role (IAM).',
    ),
  HUAWEICLOUD_SDK_AK: optionalString.describe(
    'Alias of CLOUD_SDK_AK (the official SDKs name); set one of the two.',
  ),
  HUAWEICLOUD_SDK_SK: optionalString.describe('Alias of CLOUD_SDK_SK; set one of the two. Never logged.'),
  HUAWEICLOUD_SDK_SECURITY_TOKEN: optionalString.describe(
    'Alias of CLOUD_SDK_SECURITY_TOKEN; set one of the two. Never logged.',
  ),
  CLOUD_SDK_CREDENTIALS_FILE: optionalString.describe(
    'source=file: an INI credentials file ([profile] with ak, sk, security_token), re-read when it changes.',
  ),
  CLOUD_SDK_PROFILE: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('default')
    .describe('source=file: the profile (INI section) to read.'),
  CLOUD_SDK_FILE_RECHECK_MS: intFrom(10_000, 100, 3_600_000).describe(
    'source=file: how often the file is checked for a change (and at once after a 401).',
  ),
  HUAWEICLOUD_METADATA_URL: serviceUrl('HUAWEICLOUD_METADATA_URL')
    .default('http://169.254.169.254')
    .describe('source=metadata: base URL of the ECS metadata service (temporary credentials of the agency).'),
  HUAWEICLOUD_IAM_ENDPOINT: serviceUrl('HUAWEICLOUD_IAM_ENDPOINT').describe(
    'source=assume_role: IAM base URL (default https://iam.{DCS_REGION}.myhuaweicloud.com).',
  ),
  CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME: optionalString.describe(
    'source=assume_role: the IAM agency to assume, signed with CLOUD_SDK_AK/SK (the base account).',
  ),
  CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME: optionalString.describe(
    'source=assume_role: the account (domain) name that owns the agency; or set the domain id.',
  ),
  CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID: optionalString.describe(
    'source=assume_role: the account (domain) id that owns the agency; or set the domain name.',
  ),
  CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS: intFrom(3_600, 900, 86_400).describe(
    'source=assume_role: lifetime asked for each temporary credential (900 to 86400 s).',
  ),
  CLOUD_SDK_REFRESH_MARGIN_MS: intFrom(900_000, 0, 86_400_000).describe(
    'Temporary credentials are refreshed this long before they expire (at most half their lifetime).',
  ),
  CLOUD_SDK_REFRESH_JITTER_MS: intFrom(60_000, 0, 3_600_000).describe(
    'Random extra advance of each refresh, so processes started together do not refresh together.',
  ),
};

type Settings = z.infer<z.ZodObject<typeof credentialSettingsShape>>;

/** What the deployment's credential settings need from the whole configuration. */
export type CredentialConfig = Settings & {
  CLOUD_SDK_AK?: string | undefined;
  CLOUD_SDK_SK?: string | undefined;
  CLOUD_SDK_SECURITY_TOKEN?: string | undefined;
  DCS_REGION: string;
};

export interface StaticKeySettings {
  ak: string;
  sk: string;
  securityToken?: string | undefined;
}

/** One account's credential source, resolved and checked. */
export type CredentialSourceSettings = (
  | ({ source: 'env' } & StaticKeySettings)
  | { source: 'file'; path: string; profile: string; recheckMs: number }
  | { source: 'metadata'; metadataUrl: string }
  | {
      source: 'assume_role';
      /** The keys that sign the IAM call: fixed ones, or another account's (accounts file `base`). */
      base: StaticKeySettings | { account: string };
      iamEndpoint: string;
      agencyName: string;
      domainName?: string | undefined;
      domainId?: string | undefined;
      durationSeconds: number;
    }
) & { refreshMarginMs: number; refreshJitterMs: number };

const ALIASES = [
  ['CLOUD_SDK_AK', 'HUAWEICLOUD_SDK_AK'],
  ['CLOUD_SDK_SK', 'HUAWEICLOUD_SDK_SK'],
  ['CLOUD_SDK_SECURITY_TOKEN', 'HUAWEICLOUD_SDK_SECURITY_TOKEN'],
] as const;

/** Adds an issue for every alias pair set to two different values (names both, never the values). */
export function checkCredentialAliases(config: CredentialConfig, ctx: z.RefinementCtx): void {
  for (const [name, alias] of ALIASES) {
    const a = config[name];
    const b = config[alias];
    if (a !== undefined && b !== undefined && a !== b) {
      ctx.addIssue({ code: 'custom', path: [name], message: `${name} and ${alias} are both set and differ` });
    }
  }
}

/** The AK/SK/token of the environment, aliases included; INVALID_CONFIG naming what is missing. */
export function requireStaticKeys(config: CredentialConfig, purpose = ''): StaticKeySettings {
  const ak = config.CLOUD_SDK_AK ?? config.HUAWEICLOUD_SDK_AK;
  const sk = config.CLOUD_SDK_SK ?? config.HUAWEICLOUD_SDK_SK;
  const missing = [ak === undefined ? 'CLOUD_SDK_AK' : '', sk === undefined ? 'CLOUD_SDK_SK' : ''].filter(
    Boolean,
  );
  if (ak === undefined || sk === undefined) {
    throw new CleanupError('INVALID_CONFIG', `missing credentials${purpose}: set ${missing.join(' and ')}`, {
      field: missing.join(','),
    });
  }
  return { ak, sk, securityToken: config.CLOUD_SDK_SECURITY_TOKEN ?? config.HUAWEICLOUD_SDK_SECURITY_TOKEN };
}

/** False only for source env without an AK/SK: commands that can do without DCS then do without. */
export function hasCredentialSource(config: CredentialConfig): boolean {
  if (config.CLOUD_SDK_CREDENTIALS_SOURCE !== 'env') return true;
  return (
    (config.CLOUD_SDK_AK ?? config.HUAWEICLOUD_SDK_AK) !== undefined &&
    (config.CLOUD_SDK_SK ?? config.HUAWEICLOUD_SDK_SK) !== undefined
  );
}

/** The deployment account's source; INVALID_CONFIG naming the missing settings. */
export function resolveCredentialSettings(config: CredentialConfig): CredentialSourceSettings {
  const timing = {
    refreshMarginMs: config.CLOUD_SDK_REFRESH_MARGIN_MS,
    refreshJitterMs: config.CLOUD_SDK_REFRESH_JITTER_MS,
  };
  switch (config.CLOUD_SDK_CREDENTIALS_SOURCE) {
    case 'env':
      return { source: 'env', ...requireStaticKeys(config), ...timing };
    case 'file':
      return {
        source: 'file',
        path: requireSetting(config, 'CLOUD_SDK_CREDENTIALS_FILE'),
        profile: config.CLOUD_SDK_PROFILE,
        recheckMs: config.CLOUD_SDK_FILE_RECHECK_MS,
        ...timing,
      };
    case 'metadata':
      return {
        source: 'metadata',
        metadataUrl: config.HUAWEICLOUD_METADATA_URL.replace(/\/+$/, ''),
        ...timing,
      };
    case 'assume_role':
      return resolveAssumeRole(config, timing);
  }
}

function resolveAssumeRole(
  config: CredentialConfig,
  timing: { refreshMarginMs: number; refreshJitterMs: number },
): CredentialSourceSettings {
  const agencyName = requireSetting(config, 'CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME');
  const domainName = config.CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME;
  const domainId = config.CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID;
  if (domainName === undefined && domainId === undefined) {
    throw new CleanupError(
      'INVALID_CONFIG',
      'source assume_role: set CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME or CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID',
      { field: 'CLOUD_SDK_ASSUME_ROLE_DOMAIN_NAME,CLOUD_SDK_ASSUME_ROLE_DOMAIN_ID' },
    );
  }
  const iamEndpoint = config.HUAWEICLOUD_IAM_ENDPOINT ?? `https://iam.${config.DCS_REGION}.myhuaweicloud.com`;
  return {
    source: 'assume_role',
    base: requireStaticKeys(config, ' (the base account of assume_role)'),
    iamEndpoint: iamEndpoint.replace(/\/+$/, ''),
    agencyName,
    domainName,
    domainId,
    durationSeconds: config.CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS,
    ...timing,
  };
}

function requireSetting<K extends 'CLOUD_SDK_CREDENTIALS_FILE' | 'CLOUD_SDK_ASSUME_ROLE_AGENCY_NAME'>(
  config: CredentialConfig,
  name: K,
): string {
  const value = config[name];
  if (value === undefined) {
    throw new CleanupError('INVALID_CONFIG', `source ${config.CLOUD_SDK_CREDENTIALS_SOURCE}: set ${name}`, {
      field: name,
    });
  }
  return value;
}
