/**
 * The accounts of the deployment, in one object: their names, the default, which account a job
 * belongs to, and per account its one CredentialProvider (shared by every slot of the process) and
 * its DCS clients (one per region). Built from src/config/accounts-file.ts; nothing is fetched or
 * connected before first use.
 *
 * Resolution of a task's account: the one it names, else the account whose `projects` list its
 * project, else the default. A name no account has is INVALID_INPUT naming `account`.
 */
import { CleanupError } from '../errors.js';
import type { Config } from '../config/config.js';
import {
  loadAccountsSettings,
  type AccountSettings,
  type AccountsSettings,
} from '../config/accounts-file.js';
import type { CredentialProvider } from '../huawei/credential-provider.js';
import { createCredentialProvider } from '../dcs/credential-sources/create-credential-provider.js';
import { createClientRegistry, type ClientRegistry } from '../dcs/client-registry.js';
import { accountQueueName } from '../queue/job-contract.js';
import type { Logger } from '../observability/logger.js';

/** The project and region a breaker probe may trust for an account (see src/queue/circuit-probe.ts). */
export interface AccountTrustedPair {
  projectId: string;
  region: string;
}

export interface Account {
  readonly name: string;
  /** Its BullMQ queue: `dcs-cleanup` for the default account, else `dcs-cleanup@<name>`. */
  readonly queueName: string;
  readonly isDefault: boolean;
  readonly projects: readonly string[];
  /** Its default region: the file's `region`, else DCS_REGION. */
  readonly region: string;
  /** Its first project in its region: what the breaker probes; undefined without projects. */
  readonly trusted: AccountTrustedPair | undefined;
  readonly settings: AccountSettings;
  /** Its credentials, one provider per account and process; INVALID_CONFIG when incomplete. */
  provider(): CredentialProvider;
  /** Its DCS clients (one per region). */
  clients(): ClientRegistry;
}

export interface AccountRegistry {
  readonly names: readonly string[];
  readonly defaultName: string;
  /** The accounts file, when there is one. */
  readonly file: string | undefined;
  all(): readonly Account[];
  /** The named account, or undefined. */
  find(name: string): Account | undefined;
  /** The named account; INVALID_INPUT naming `field` when there is none. */
  get(name: string, field?: string): Account;
  /** The account of a task: `explicit`, else the one listing `projectId`, else the default. */
  resolve(projectId: string, explicit?: string): Account;
  /** The account of a purge or schedule scope (resolve on its project and account); none: the default. */
  ofScope(scope: { project_id: string; account?: string | undefined } | undefined): Account;
  /** The account whose queue is `queueName`, or undefined. */
  byQueue(queueName: string): Account | undefined;
  close(): Promise<void>;
}

export function createAccountRegistry(
  config: Config,
  options: {
    logger?: Logger | undefined;
    settings?: AccountsSettings;
    /** Providers to sign with instead of an account's configured source (tests, the demo). */
    providers?: Readonly<Record<string, CredentialProvider>>;
  } = {},
): AccountRegistry {
  const settings = options.settings ?? loadAccountsSettings(config);
  const { logger } = options;
  const accounts = new Map<string, Account>();
  const byProject = new Map<string, Account>();
  const providers = new Map<string, CredentialProvider>();
  const clientRegistries = new Map<string, ClientRegistry>();

  const providerOf = (name: string): CredentialProvider => {
    let provider = providers.get(name) ?? options.providers?.[name];
    if (provider !== undefined) {
      providers.set(name, provider);
      return provider;
    }
    const credentials = accounts.get(name)!.settings.credentials();
    const base = credentials.source === 'assume_role' ? credentials.base : undefined;
    provider = createCredentialProvider(credentials, {
      ...(base !== undefined && 'account' in base ? { baseProvider: providerOf(base.account) } : {}),
      onRefreshError: (err) =>
        logger?.warn(
          { account: name, source: credentials.source, err: (err as Error).message },
          'credential refresh failed; the current credentials stay in use until they expire',
        ),
    });
    providers.set(name, provider);
    return provider;
  };

  for (const s of settings.accounts) {
    const region = s.region ?? config.DCS_REGION;
    const first = s.projects[0];
    const account: Account = {
      name: s.name,
      queueName: accountQueueName(s.name, settings.defaultAccount),
      isDefault: s.name === settings.defaultAccount,
      projects: s.projects,
      region,
      trusted: first === undefined ? undefined : { projectId: first, region },
      settings: s,
      provider: () => providerOf(s.name),
      clients() {
        let registry = clientRegistries.get(s.name);
        if (registry === undefined) {
          registry = createClientRegistry({ ...config, DCS_REGION: region }, providerOf(s.name), logger);
          clientRegistries.set(s.name, registry);
        }
        return registry;
      },
    };
    accounts.set(s.name, account);
    for (const project of s.projects) byProject.set(project, account);
  }
  const names = [...accounts.keys()];
  const defaultAccount = accounts.get(settings.defaultAccount)!;

  const get = (name: string, field = 'account'): Account => {
    const account = accounts.get(name);
    if (account !== undefined) return account;
    throw new CleanupError(
      'INVALID_INPUT',
      `${field}: ${name} is not one of the configured accounts (${names.join(', ')})`,
      { field },
    );
  };

  const resolve = (projectId: string, explicit?: string): Account =>
    explicit !== undefined ? get(explicit) : (byProject.get(projectId) ?? defaultAccount);

  return {
    names,
    defaultName: settings.defaultAccount,
    file: settings.file,
    all: () => [...accounts.values()],
    find: (name) => accounts.get(name),
    get,
    resolve,
    ofScope: (scope) => (scope === undefined ? defaultAccount : resolve(scope.project_id, scope.account)),
    byQueue: (queueName) => [...accounts.values()].find((a) => a.queueName === queueName),
    async close() {
      await Promise.all([...clientRegistries.values()].map((c) => c.close()));
      clientRegistries.clear();
    },
  };
}
