import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { loadAccountsSettings, parseAccountsFile } from '../../../src/config/accounts-file.js';
import { createAccountRegistry } from '../../../src/accounts/account-registry.js';
import { isCleanupError } from '../../../src/errors.js';
import { configError } from '../../support/config-error.js';

const config = loadConfig({ DCS_REGION: 'cn-north-4' });
const P1 = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const P2 = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';
const ENV = { PROD_AK: 'PRODAK00000000000001', PROD_SK: 'prod-secret-key' };

const ISSUE_EXAMPLE = `
default_account: prod
accounts:
  prod:
    credentials: { source: env, ak_env: PROD_AK, sk_env: PROD_SK }
    projects: ["${P1}"]
  partner:
    credentials: { source: assume_role, base: prod, domain_name: partner-corp, agency_name: cleanup }
    projects: ["${P2}"]
`;

const parse = (text: string, env: Record<string, string> = ENV) =>
  parseAccountsFile(text, '/etc/dcs-cleanup/accounts.yaml', config, env);

describe('accounts file (CLEANUP_ACCOUNTS_FILE)', () => {
  it("accepts the issue's example, resolving each source with the configuration's defaults", () => {
    const settings = parse(ISSUE_EXAMPLE);
    expect(settings.defaultAccount).toBe('prod');
    expect(settings.accounts.map((a) => a.name)).toEqual(['prod', 'partner']);
    const [prod, partner] = settings.accounts;
    expect(prod!.credentials()).toMatchObject({ source: 'env', ak: ENV.PROD_AK, sk: ENV.PROD_SK });
    expect(partner!.credentials()).toMatchObject({
      source: 'assume_role',
      base: { account: 'prod' },
      iamEndpoint: 'https://iam.cn-north-4.myhuaweicloud.com',
      agencyName: 'cleanup',
      domainName: 'partner-corp',
      durationSeconds: 3_600,
    });
  });

  it('accepts the same shape in JSON', () => {
    const json = JSON.stringify({
      accounts: { only: { credentials: { source: 'metadata' }, projects: [P1], region: 'ap-southeast-1' } },
    });
    const settings = parse(json);
    expect(settings.defaultAccount).toBe('only');
    expect(settings.accounts[0]).toMatchObject({ region: 'ap-southeast-1', projects: [P1] });
    expect(settings.accounts[0]!.credentials()).toMatchObject({ metadataUrl: 'http://169.254.169.254' });
  });

  it('names every problem of the file at once, each with its path, and no secret', () => {
    const text = `
accounts:
  prod:
    credentials: { source: env, ak_env: PROD_AK, sk_env: MISSING_SK }
    projects: ["${P1}", "not/an/id"]
    colour: blue
  "bad name!":
    credentials: { source: file }
  partner:
    credentials: { source: assume_role, base: nobody, agency_name: cleanup }
    projects: ["${P1}"]
  vault:
    credentials: { source: vault }
`;
    const err = configError(() => parse(text));
    const lines = err.message.split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('invalid accounts file /etc/dcs-cleanup/accounts.yaml:');
    expect(err.field).toBe('CLEANUP_ACCOUNTS_FILE');
    // Every problem of the schema, and the names, in one error.
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^accounts\.prod\.projects\.1: must be 1 to 64 letters/),
        expect.stringMatching(/^accounts\.prod: Unrecognized key: "colour"/),
        expect.stringMatching(/^accounts\.bad name!: the name must be 1 to 40 letters/),
        expect.stringMatching(/^accounts\.bad name!\.credentials\.path: /),
        expect.stringMatching(
          /^accounts\.vault\.credentials(\.source)?: source must be env, file, metadata or assume_role/,
        ),
      ]),
    );
    expect(err.message).not.toContain(ENV.PROD_SK);
  });

  it('names the problems between accounts: default, base, shared projects, unset variables', () => {
    const text = `
default_account: staging
accounts:
  prod:
    credentials: { source: env, ak_env: PROD_AK, sk_env: MISSING_SK }
    projects: ["${P1}"]
  partner:
    credentials: { source: assume_role, base: nobody, agency_name: cleanup }
    projects: ["${P1}"]
  loop1:
    credentials: { source: assume_role, base: loop2, agency_name: a, domain_id: d1 }
  loop2:
    credentials: { source: assume_role, base: loop1, agency_name: a, domain_id: d2 }
`;
    const err = configError(() => parse(text));
    const lines = err.message.split('\n').map((l) => l.trim());
    expect(lines.slice(1)).toEqual([
      'default_account: staging is not one of the accounts (prod, partner, loop1, loop2)',
      'accounts.prod.credentials.sk_env: environment variable MISSING_SK is not set',
      `accounts.partner.projects.0: ${P1} is also listed by account prod`,
      'accounts.partner.credentials: assume_role needs domain_name or domain_id',
      'accounts.partner.credentials.base: nobody is not one of the accounts',
      'accounts.loop1.credentials.base: the base accounts go round in a circle (loop1 -> loop2 -> loop1)',
      'accounts.loop2.credentials.base: the base accounts go round in a circle (loop2 -> loop1 -> loop2)',
    ]);
  });

  it('requires default_account when there are several accounts, and at least one account', () => {
    const two = `accounts:\n  a: { credentials: { source: metadata } }\n  b: { credentials: { source: metadata } }\n`;
    expect(configError(() => parse(two)).message).toContain(
      'default_account: must be set when there is more than one account',
    );
    expect(configError(() => parse('accounts: {}')).message).toContain(
      'accounts: must name at least one account',
    );
    expect(configError(() => parse('accounts: [')).message).toMatch(/\(file\): not YAML or JSON/);
  });

  it('names the file when it cannot be read; without it, one account `default` from the variables', () => {
    const missing = loadConfig({ CLEANUP_ACCOUNTS_FILE: '/nonexistent/accounts.yaml' });
    expect(configError(() => loadAccountsSettings(missing)).message).toContain(
      'CLEANUP_ACCOUNTS_FILE: /nonexistent/accounts.yaml cannot be read (ENOENT)',
    );
    const plain = loadConfig({ DCS_PROJECT_ID: P1, CLOUD_SDK_AK: 'AKAKAKAK', CLOUD_SDK_SK: 'sk' });
    const settings = loadAccountsSettings(plain);
    expect(settings).toMatchObject({
      defaultAccount: 'default',
      accounts: [{ name: 'default', projects: [P1] }],
    });
    expect(settings.accounts[0]!.credentials()).toMatchObject({ source: 'env', ak: 'AKAKAKAK' });
  });
});

describe('account registry', () => {
  const registry = createAccountRegistry(config, { settings: parse(ISSUE_EXAMPLE) });

  it('resolves a task: the account it names, else the one listing its project, else the default', () => {
    expect(registry.resolve(P2).name).toBe('partner');
    expect(registry.resolve('someotherproject').name).toBe('prod');
    expect(registry.resolve(P2, 'prod').name).toBe('prod');
    let err: unknown;
    try {
      registry.resolve(P1, 'ghost');
    } catch (e) {
      err = e;
    }
    expect(isCleanupError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toBe(
      'account: ghost is not one of the configured accounts (prod, partner)',
    );
  });

  it('gives the default account the queue dcs-cleanup and every other its own', () => {
    expect(registry.all().map((a) => [a.name, a.queueName, a.isDefault])).toEqual([
      ['prod', 'dcs-cleanup', true],
      ['partner', 'dcs-cleanup@partner', false],
    ]);
    expect(registry.byQueue('dcs-cleanup@partner')?.name).toBe('partner');
    expect(registry.get('partner').trusted).toEqual({ projectId: P2, region: 'cn-north-4' });
  });

  it('builds one provider per account, shared, and signs assume_role with the base account', () => {
    const partner = registry.get('partner');
    expect(partner.provider()).toBe(partner.provider());
    expect(registry.get('prod').provider().current()?.accessKeyId).toBe(ENV.PROD_AK);
  });
});
