/**
 * The credential provider of one account, from its resolved settings: env (fixed keys), file (an INI
 * profile re-read when it changes), metadata (the ECS agency's temporary keys) or assume_role (IAM).
 * Every fetch is shared by all the callers of the process: the provider refreshes in single flight.
 */
import { readFile, stat } from 'node:fs/promises';
import { CleanupError } from '../../errors.js';
import type { Config } from '../../config/config.js';
import {
  resolveCredentialSettings,
  type CredentialSourceSettings,
} from '../../config/credential-settings.js';
import type { Logger } from '../../observability/logger.js';
import {
  createRefreshingCredentialProvider,
  createStaticCredentialProvider,
  type CredentialProvider,
  type IssuedCredentials,
} from '../../huawei/credential-provider.js';
import { Credentials } from '../../huawei/credentials.js';
import { parseCredentialsProfile } from '../../huawei/credentials-file.js';
import { signRequest } from '../../huawei/signer.js';
import { fetchCredentialJson } from './fetch-credential-json.js';

export interface ProviderDeps {
  now?: () => number;
  random?: () => number;
  /** Told of each failed background refresh; the error names no secret. */
  onRefreshError?: (err: unknown) => void;
  /** assume_role with `base: { account }`: that account's provider, which signs the IAM call. */
  baseProvider?: CredentialProvider;
}

export const METADATA_PATH = '/openstack/latest/securitykey';
export const SECURITY_TOKENS_PATH = '/v3.0/OS-CREDENTIAL/securitytokens';

/** The provider for `settings`; nothing is fetched before the first call. */
export function createCredentialProvider(
  settings: CredentialSourceSettings,
  deps: ProviderDeps = {},
): CredentialProvider {
  if (settings.source === 'env') {
    return createStaticCredentialProvider(new Credentials(settings.ak, settings.sk, settings.securityToken));
  }
  const common = {
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    refreshMarginMs: settings.refreshMarginMs,
    refreshJitterMs: settings.refreshJitterMs,
    ...(deps.onRefreshError ? { onRefreshError: deps.onRefreshError } : {}),
  };
  switch (settings.source) {
    case 'file':
      return createRefreshingCredentialProvider({
        ...common,
        fetch: buildFileFetch(settings.path, settings.profile),
        recheckMs: settings.recheckMs,
        refreshOnEveryRejection: true,
      });
    case 'metadata':
      return createRefreshingCredentialProvider({
        ...common,
        fetch: () =>
          fetchCredentialJson({
            method: 'GET',
            url: settings.metadataUrl + METADATA_PATH,
            service: 'the ECS metadata service',
          }),
      });
    case 'assume_role':
      return createRefreshingCredentialProvider({
        ...common,
        fetch: buildAssumeRoleFetch(settings, common.now, deps.baseProvider),
      });
  }
}

/** Reads the profile; the file is parsed again only when its size or modification time changed. */
function buildFileFetch(path: string, profile: string): () => Promise<IssuedCredentials> {
  let last: { stamp: string; issued: IssuedCredentials } | undefined;
  return async () => {
    let stamp: string;
    let text: string | undefined;
    try {
      const info = await stat(path);
      stamp = `${info.size}:${info.mtimeMs}:${info.ino}`;
      if (last?.stamp === stamp) return last.issued;
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new CleanupError('CREDENTIALS_UNAVAILABLE', `credentials file ${path} cannot be read (${code})`, {
        cause: err,
      });
    }
    const p = parseCredentialsProfile(text, profile, `credentials file ${path}`);
    last = { stamp, issued: { credentials: new Credentials(p.ak, p.sk, p.securityToken) } };
    return last.issued;
  };
}

type AssumeRoleSettings = Extract<CredentialSourceSettings, { source: 'assume_role' }>;

/** `POST /v3.0/OS-CREDENTIAL/securitytokens`, method assume_role, signed with the base account's keys. */
function buildAssumeRoleFetch(
  settings: AssumeRoleSettings,
  now: () => number,
  baseProvider: CredentialProvider | undefined,
): () => Promise<IssuedCredentials> {
  const keys = settings.base;
  let signer: CredentialProvider;
  if ('account' in keys) {
    if (baseProvider === undefined) {
      throw new CleanupError(
        'INVALID_CONFIG',
        `assume_role: the base account ${keys.account} has no provider`,
      );
    }
    signer = baseProvider;
  } else {
    signer = createStaticCredentialProvider(new Credentials(keys.ak, keys.sk, keys.securityToken));
  }
  const url = settings.iamEndpoint + SECURITY_TOKENS_PATH;
  const body = JSON.stringify({
    auth: {
      identity: {
        methods: ['assume_role'],
        assume_role: {
          agency_name: settings.agencyName,
          ...(settings.domainId === undefined ? {} : { domain_id: settings.domainId }),
          ...(settings.domainName === undefined ? {} : { domain_name: settings.domainName }),
          duration_seconds: settings.durationSeconds,
        },
      },
    },
  });
  return async () => {
    const headers = { 'content-type': 'application/json;charset=UTF-8' };
    const base = await signer.fresh();
    const signed = signRequest({ method: 'POST', url, headers, body }, base, new Date(now()));
    return fetchCredentialJson({ method: 'POST', url, headers: signed.headers, body, service: 'IAM' });
  };
}

/** The deployment account's provider (CLOUD_SDK_CREDENTIALS_SOURCE); INVALID_CONFIG when incomplete. */
export function createConfiguredCredentialProvider(
  config: Config,
  logger?: Logger,
  settings = resolveCredentialSettings(config),
): CredentialProvider {
  return createCredentialProvider(settings, {
    onRefreshError: (err) =>
      logger?.warn(
        { source: config.CLOUD_SDK_CREDENTIALS_SOURCE, err: (err as Error).message },
        'credential refresh failed; the current credentials stay in use until they expire',
      ),
  });
}
