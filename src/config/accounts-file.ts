/**
 * CLEANUP_ACCOUNTS_FILE: the accounts a deployment cleans, in YAML or JSON (docs/configuration.md
 * documents every key). The file is validated whole: every problem is named with its path
 * (`accounts.partner.credentials.base: ...`), in one INVALID_CONFIG error. Without the file there is one
 * account, `default`, from today's variables. This folder is the only reader of the file and of the
 * environment variables it names (`ak_env`, `sk_env`, `security_token_env`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { ID_PATTERN, ID_RULE } from '../dcs/ids.js';
import { REGION_PATTERN, acceptConfiguredRegions } from './regions.js';
import {
  resolveCredentialSettings,
  type CredentialConfig,
  type CredentialSourceSettings,
} from './credential-settings.js';

/** Account names: they end up in queue names (`dcs-cleanup@<name>`), metric labels and logs. */
export const ACCOUNT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
export const ACCOUNT_NAME_RULE = 'must be 1 to 40 letters, digits, _ or -, starting with a letter or digit';
/** The account of a deployment without CLEANUP_ACCOUNTS_FILE. */
export const DEFAULT_ACCOUNT_NAME = 'default';

const accountName = z.string().regex(ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE);
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name');
const region = z.string().regex(REGION_PATTERN, 'must look like cn-north-4');
const url = z.string().refine((v) => URL.canParse(v), 'must be an absolute URL');
const ms = (max: number) => z.number().int('must be a whole number').min(0).max(max);

const timing = {
  refresh_margin_ms: ms(86_400_000).optional(),
  refresh_jitter_ms: ms(3_600_000).optional(),
};

const credentialsSchema = z.discriminatedUnion(
  'source',
  [
    z.strictObject({
      source: z.literal('env'),
      ak_env: envName,
      sk_env: envName,
      security_token_env: envName.optional(),
      ...timing,
    }),
    z.strictObject({
      source: z.literal('file'),
      path: z.string().min(1, 'must not be empty'),
      profile: z.string().min(1, 'must not be empty').default('default'),
      recheck_ms: z.number().int().min(100).max(3_600_000).optional(),
      ...timing,
    }),
    z.strictObject({ source: z.literal('metadata'), metadata_url: url.optional(), ...timing }),
    z.strictObject({
      source: z.literal('assume_role'),
      base: accountName,
      agency_name: z.string().min(1, 'must not be empty'),
      domain_name: z.string().min(1).optional(),
      domain_id: z.string().min(1).optional(),
      duration_seconds: z.number().int().min(900).max(86_400).optional(),
      iam_endpoint: url.optional(),
      ...timing,
    }),
  ],
  { error: 'source must be env, file, metadata or assume_role' },
);

const accountSchema = z.strictObject({
  credentials: credentialsSchema,
  projects: z.array(z.string().regex(ID_PATTERN, ID_RULE)).default([]),
  /** The account's default region (jobs without one); default DCS_REGION. */
  region: region.optional(),
  /** Further regions its jobs may name. */
  regions: z.array(region).default([]),
  /** Reserved for per-account rate control: requests per second of this account's queue. */
  rate_limit: z.union([z.number().int().min(0).max(10_000), z.literal('auto')]).optional(),
  /** Reserved for per-account rate control: jobs in flight per worker process for this account. */
  concurrency: z.number().int().min(1).max(1_000).optional(),
});

export const accountsFileSchema = z.strictObject({
  default_account: accountName.optional(),
  // Names are checked apart (findNameProblems): a bad name must not hide the problems of its entry.
  accounts: z
    .record(z.string(), accountSchema)
    .refine((a) => Object.keys(a).length > 0, 'must name at least one account'),
});
export type AccountsFile = z.infer<typeof accountsFileSchema>;

/** One account, resolved: its credential source is built on first use (a missing key fails there). */
export interface AccountSettings {
  name: string;
  projects: readonly string[];
  region?: string | undefined;
  regions: readonly string[];
  rateLimit?: number | 'auto' | undefined;
  concurrency?: number | undefined;
  credentials(): CredentialSourceSettings;
}

export interface AccountsSettings {
  /** The file the accounts came from; undefined for the one `default` account of the variables. */
  file?: string | undefined;
  defaultAccount: string;
  accounts: readonly AccountSettings[];
}

export interface AccountsConfig extends CredentialConfig {
  CLEANUP_ACCOUNTS_FILE?: string | undefined;
  DCS_PROJECT_ID?: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The accounts of the deployment; INVALID_CONFIG naming every problem of the file. */
export function loadAccountsSettings(
  config: AccountsConfig,
  env: Env = process.env,
  readText: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): AccountsSettings {
  const path = config.CLEANUP_ACCOUNTS_FILE;
  if (path === undefined) {
    return {
      defaultAccount: DEFAULT_ACCOUNT_NAME,
      accounts: [
        {
          name: DEFAULT_ACCOUNT_NAME,
          projects: config.DCS_PROJECT_ID === undefined ? [] : [config.DCS_PROJECT_ID],
          regions: [],
          credentials: () => resolveCredentialSettings(config),
        },
      ],
    };
  }
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(path, [`CLEANUP_ACCOUNTS_FILE: ${path} cannot be read (${code})`], err);
  }
  return parseAccountsFile(text, path, config, env);
}

/** Parses and checks the text of an accounts file (YAML, of which JSON is a subset). */
export function parseAccountsFile(
  text: string,
  path: string,
  config: AccountsConfig,
  env: Env = process.env,
): AccountsSettings {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw invalid(path, [`(file): not YAML or JSON: ${(err as Error).message.split('\n')[0]}`], err);
  }
  const result = accountsFileSchema.safeParse(raw);
  const nameProblems = findNameProblems(raw);
  if (!result.success || nameProblems.length > 0) {
    const issues = result.error?.issues ?? [];
    throw invalid(path, [
      ...nameProblems,
      ...issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`),
    ]);
  }
  const file = result.data;
  const problems = findCrossProblems(file, env);
  if (problems.length > 0) throw invalid(path, problems);
  const names = Object.keys(file.accounts);
  const accounts = names.map((name) => toSettings(name, file.accounts[name]!, config, env));
  acceptConfiguredRegions(accounts.flatMap((a) => [...(a.region ? [a.region] : []), ...a.regions]));
  return { file: path, defaultAccount: file.default_account ?? names[0]!, accounts };
}

/** Every account name that breaks the rule (they become queue names). */
function findNameProblems(raw: unknown): string[] {
  const accounts = (raw as { accounts?: unknown } | null)?.accounts;
  if (accounts === null || typeof accounts !== 'object' || Array.isArray(accounts)) return [];
  return Object.keys(accounts)
    .filter((name) => !ACCOUNT_NAME_PATTERN.test(name))
    .map((name) => `accounts.${name}: the name ${ACCOUNT_NAME_RULE}`);
}

/** What the schema cannot see: references between accounts, shared projects, unset variables. */
function findCrossProblems(file: AccountsFile, env: Env): string[] {
  const problems: string[] = [];
  const names = Object.keys(file.accounts);
  if (file.default_account === undefined && names.length > 1) {
    problems.push('default_account: must be set when there is more than one account');
  }
  if (file.default_account !== undefined && !names.includes(file.default_account)) {
    problems.push(
      `default_account: ${file.default_account} is not one of the accounts (${names.join(', ')})`,
    );
  }
  const ownerOf = new Map<string, string>();
  for (const [name, account] of Object.entries(file.accounts)) {
    const where = `accounts.${name}`;
    account.projects.forEach((project, i) => {
      const owner = ownerOf.get(project);
      if (owner !== undefined)
        problems.push(`${where}.projects.${i}: ${project} is also listed by account ${owner}`);
      else ownerOf.set(project, name);
    });
    const c = account.credentials;
    if (c.source === 'env') {
      for (const key of ['ak_env', 'sk_env', 'security_token_env'] as const) {
        const variable = c[key];
        if (variable !== undefined && (env[variable] ?? '').trim() === '') {
          problems.push(`${where}.credentials.${key}: environment variable ${variable} is not set`);
        }
      }
    }
    if (c.source === 'assume_role') {
      if (c.domain_name === undefined && c.domain_id === undefined) {
        problems.push(`${where}.credentials: assume_role needs domain_name or domain_id`);
      }
      const cycle = findBaseProblem(file, name);
      if (cycle !== undefined) problems.push(`${where}.credentials.base: ${cycle}`);
    }
  }
  return problems;
}

/** Why the chain of `base` accounts from `name` does not end at an account with its own keys. */
function findBaseProblem(file: AccountsFile, name: string): string | undefined {
  const seen = [name];
  let current = file.accounts[name]!.credentials;
  while (current.source === 'assume_role') {
    const base = current.base;
    const next = file.accounts[base];
    if (next === undefined) return `${base} is not one of the accounts`;
    if (seen.includes(base))
      return `the base accounts go round in a circle (${[...seen, base].join(' -> ')})`;
    seen.push(base);
    current = next.credentials;
  }
  return undefined;
}

function toSettings(
  name: string,
  account: AccountsFile['accounts'][string],
  config: AccountsConfig,
  env: Env,
): AccountSettings {
  const c = account.credentials;
  const timingOf = {
    refreshMarginMs: c.refresh_margin_ms ?? config.CLOUD_SDK_REFRESH_MARGIN_MS,
    refreshJitterMs: c.refresh_jitter_ms ?? config.CLOUD_SDK_REFRESH_JITTER_MS,
  };
  const trimmed = (v: string): string => v.replace(/\/+$/, '');
  let credentials: CredentialSourceSettings;
  switch (c.source) {
    case 'env':
      credentials = {
        source: 'env',
        ak: env[c.ak_env]!.trim(),
        sk: env[c.sk_env]!.trim(),
        securityToken: c.security_token_env === undefined ? undefined : env[c.security_token_env]!.trim(),
        ...timingOf,
      };
      break;
    case 'file':
      credentials = {
        source: 'file',
        path: c.path,
        profile: c.profile,
        recheckMs: c.recheck_ms ?? config.CLOUD_SDK_FILE_RECHECK_MS,
        ...timingOf,
      };
      break;
    case 'metadata':
      credentials = {
        source: 'metadata',
        metadataUrl: trimmed(c.metadata_url ?? config.HUAWEICLOUD_METADATA_URL),
        ...timingOf,
      };
      break;
    case 'assume_role':
      credentials = {
        source: 'assume_role',
        base: { account: c.base },
        iamEndpoint: trimmed(
          c.iam_endpoint ??
            config.HUAWEICLOUD_IAM_ENDPOINT ??
            `https://iam.${account.region ?? config.DCS_REGION}.myhuaweicloud.com`,
        ),
        agencyName: c.agency_name,
        domainName: c.domain_name,
        domainId: c.domain_id,
        durationSeconds: c.duration_seconds ?? config.CLOUD_SDK_ASSUME_ROLE_DURATION_SECONDS,
        ...timingOf,
      };
      break;
  }
  return {
    name,
    projects: account.projects,
    region: account.region,
    regions: account.regions,
    rateLimit: account.rate_limit,
    concurrency: account.concurrency,
    credentials: () => credentials,
  };
}

function invalid(path: string, problems: string[], cause?: unknown): CleanupError {
  return new CleanupError('INVALID_CONFIG', `invalid accounts file ${path}:\n  ${problems.join('\n  ')}`, {
    field: 'CLEANUP_ACCOUNTS_FILE',
    ...(cause === undefined ? {} : { cause }),
  });
}
