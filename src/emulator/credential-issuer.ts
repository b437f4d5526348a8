/**
 * Temporary credentials, as the ECS metadata service and IAM issue them:
 *   GET  /openstack/latest/securitykey          unsigned (the metadata service trusts the VM)
 *   POST /v3.0/OS-CREDENTIAL/securitytokens     signed by an accepted key; body
 *        {"auth":{"identity":{"methods":["assume_role"],"assume_role":{"agency_name","domain_name"|
 *         "domain_id","duration_seconds"}}}}  -> 201
 * Both answer {"credential":{"access","secret","securitytoken","expires_at"}}. An issued AK is accepted
 * by the DCS routes, with its token, until `expires_at` on the emulator's clock (then 401 APIGW.0301);
 * `lifetimeMs` (an option) overrides every lifetime so tests see tokens expire within seconds.
 */
import { randomBytes } from 'node:crypto';
import { Credentials } from '../huawei/credentials.js';
import type { AcceptedKey } from './signature-check.js';

export interface TemporaryCredentialOptions {
  /** Lifetime of every issued set; default: 1 hour for metadata, the asked duration for IAM. */
  lifetimeMs?: number;
}

export interface IssuedSet {
  access: string;
  secret: string;
  securitytoken: string;
  expires_at: string;
}

export type TemporaryKeyLookup = { key: AcceptedKey; expired: boolean } | undefined;

export interface CredentialIssuer {
  /** A new set living `durationMs` (or the `lifetimeMs` option). */
  issue(durationMs: number): IssuedSet;
  lookup(accessKeyId: string): TemporaryKeyLookup;
  /** Sets issued so far, expired ones included. */
  issuedCount(): number;
  /** Every set issued so far (tests search logs and Redis for them). */
  issuedSets(): IssuedSet[];
  /** Changes the lifetime of the sets issued from now on. */
  setLifetimeMs(lifetimeMs: number | undefined): void;
}

interface Entry {
  key: AcceptedKey;
  expiresAtMs: number;
}

export function createCredentialIssuer(
  options: TemporaryCredentialOptions,
  now: () => number,
): CredentialIssuer {
  const issued = new Map<string, Entry>();
  const sets: IssuedSet[] = [];
  let lifetimeMs = options.lifetimeMs;
  return {
    issue(durationMs) {
      const access = `TMP${randomBytes(10).toString('hex').toUpperCase()}`;
      const secret = randomBytes(20).toString('base64url');
      const securitytoken = `tok-${randomBytes(48).toString('base64url')}`;
      const expiresAtMs = now() + (lifetimeMs ?? durationMs);
      issued.set(access, {
        key: { credentials: new Credentials(access, secret), securityToken: securitytoken },
        expiresAtMs,
      });
      const set = { access, secret, securitytoken, expires_at: new Date(expiresAtMs).toISOString() };
      sets.push(set);
      return set;
    },
    lookup(accessKeyId) {
      const entry = issued.get(accessKeyId);
      if (entry === undefined) return undefined;
      return { key: entry.key, expired: now() >= entry.expiresAtMs };
    },
    issuedCount: () => issued.size,
    issuedSets: () => [...sets],
    setLifetimeMs(value) {
      lifetimeMs = value;
    },
  };
}
