import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, DEMO_CREDENTIALS, type Emulator } from '../../src/emulator/emulator.js';
import { createDcsClient, type DcsClient } from '../../src/dcs/dcs-client.js';
import { createCredentialProvider } from '../../src/dcs/credential-sources/create-credential-provider.js';
import type { CredentialSourceSettings } from '../../src/config/credential-settings.js';
import { isCleanupError } from '../../src/errors.js';

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const MINUTE = 60_000;
const timing = { refreshMarginMs: 15 * MINUTE, refreshJitterMs: 0 };

let emulator: Emulator | undefined;
let client: DcsClient | undefined;
afterEach(async () => {
  await client?.close();
  await emulator?.close();
  client = undefined;
  emulator = undefined;
});

/** The provider and the client read `clock`; the emulator (the gateway) reads it plus `gatewayAheadMs`. */
async function setup(settings: (url: string) => CredentialSourceSettings) {
  const clock = { ms: Date.UTC(2026, 11, 1, 12), gatewayAheadMs: 0 };
  emulator = await startEmulator({ rateLimitPerSecond: 0, now: () => clock.ms + clock.gatewayAheadMs });
  emulator.addInstance(PROJECT);
  const provider = createCredentialProvider(settings(emulator.url), { now: () => clock.ms, random: () => 0 });
  client = createDcsClient({ endpoint: emulator.url, credentials: provider, now: () => new Date(clock.ms) });
  return { clock, provider, emulator, client };
}

const metadata = (url: string): CredentialSourceSettings => ({
  source: 'metadata',
  metadataUrl: url,
  ...timing,
});

describe('credential sources against the emulator', () => {
  it('a 401 after a refresh was due is answered by one refresh and one retry, not passed on', async () => {
    const s = await setup(metadata);
    expect((await s.client.probe(PROJECT)).ok).toBe(true);
    expect(s.emulator.credentialsIssued()).toBe(1);
    // Past the refresh point (60 - 15 min) here; past expiry on the gateway's clock, 11 minutes ahead
    // (X-Sdk-Date allows 15): the set still served while the refresh runs is refused.
    s.clock.ms += 50 * MINUTE;
    s.clock.gatewayAheadMs = 11 * MINUTE;
    const before = s.emulator.stats().authFailures;
    const outcome = await s.client.probe(PROJECT);
    expect(outcome.ok).toBe(true);
    expect(s.emulator.stats().authFailures).toBe(before + 1);
    expect(s.emulator.credentialsIssued()).toBe(2);
  });

  it('refreshes before expiry in the background: calls keep succeeding, one fetch for many calls', async () => {
    const s = await setup(metadata);
    await s.client.probe(PROJECT);
    s.clock.ms += 46 * MINUTE;
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => s.client.probe(PROJECT)));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(s.emulator.credentialsIssued()).toBe(2);
    expect(s.emulator.stats().authFailures).toBe(0);
  });

  it('a 401 before any refresh was due is passed on (a genuine failure, for the breaker)', async () => {
    const s = await setup(metadata);
    expect((await s.client.probe(PROJECT)).ok).toBe(true);
    s.clock.ms += 10 * MINUTE;
    expect(s.emulator.revokeKey(s.emulator.issuedCredentials()[0]!.access)).toBe(true);
    const outcome = await s.client.probe(PROJECT);
    expect(outcome.status).toBe(401);
    expect(s.emulator.credentialsIssued()).toBe(1);
  });

  it('assume_role: IAM refuses a request not signed by an accepted base key', async () => {
    const s = await setup((url) => ({
      source: 'assume_role',
      base: { ak: DEMO_CREDENTIALS.ak, sk: 'not-the-demo-secret' },
      iamEndpoint: url,
      agencyName: 'agency',
      domainName: 'domain',
      durationSeconds: 900,
      ...timing,
    }));
    const err = await s.provider.fresh().catch((e: unknown) => e);
    expect(isCleanupError(err, 'CREDENTIALS_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('IAM answered HTTP 401');
    expect((err as Error).message).not.toContain('not-the-demo-secret');
    expect(s.emulator.credentialsIssued()).toBe(0);
  });

  it('assume_role: signed by the base key, IAM issues a set the DCS routes accept', async () => {
    const s = await setup((url) => ({
      source: 'assume_role',
      base: { ak: DEMO_CREDENTIALS.ak, sk: DEMO_CREDENTIALS.sk },
      iamEndpoint: url,
      agencyName: 'agency',
      domainId: 'a1b2c3',
      durationSeconds: 900,
      ...timing,
    }));
    const creds = await s.provider.fresh();
    expect(creds.temporary).toBe(true);
    expect(creds.accessKeyId).toBe(s.emulator.issuedCredentials()[0]!.access);
    expect((await s.client.probe(PROJECT)).ok).toBe(true);
  });

  it('metadata: a service that is down gives CREDENTIALS_UNAVAILABLE naming it, not a crash', async () => {
    const s = await setup(() => metadata('http://127.0.0.1:9'));
    const err = await s.provider.fresh().catch((e: unknown) => e);
    expect(isCleanupError(err, 'CREDENTIALS_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain('the ECS metadata service did not answer');
  });
});
