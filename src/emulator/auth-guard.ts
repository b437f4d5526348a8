/**
 * Authentication as the gateway applies it, including the lockout: more than `maxFailures` failed
 * authentications in a row for one AK lock that AK for `lockoutMs`, and during the lockout every request
 * with it is refused, even a correctly signed one. A success resets the streak; the lockout is not
 * extended by requests made during it. Malformed headers and unknown AKs fail without any streak.
 * A key limited to some projects is refused (401, counted in its streak) for any other project.
 */
import { Credentials } from '../huawei/credentials.js';
import type { TemporaryKeyLookup } from './credential-issuer.js';
import {
  findSignatureProblem,
  headerValue,
  parseAuthorization,
  type AcceptedKey,
  type ReceivedRequest,
} from './signature-check.js';

export interface AccessKeyPair {
  ak: string;
  sk: string;
  securityToken?: string;
  /** The projects this key may act on (X-Project-Id); default any. Others fail like a bad signature. */
  projects?: readonly string[];
}

export interface AuthGuardOptions {
  keys: readonly AccessKeyPair[];
  now: () => number;
  maxFailures: number;
  lockoutMs: number;
  /** Temporary keys (metadata, IAM), accepted until they expire. */
  lookupTemporary?: (accessKeyId: string) => TemporaryKeyLookup;
}

export type AuthOutcome =
  { ok: true; accessKeyId: string } | { ok: false; accessKeyId?: string; reason: string };

export interface AuthGuard {
  check(request: ReceivedRequest): AuthOutcome;
  /** AKs locked right now. */
  lockedAccessKeys(): string[];
  /** Forgets every streak and lockout. */
  reset(): void;
  /** Accepts one more key pair (a rotated key). */
  addKey(pair: AccessKeyPair): void;
  /** Refuses `accessKeyId`, static or temporary, from now on (a revoked key); true when it was known. */
  revokeKey(accessKeyId: string): boolean;
}

interface Streak {
  failures: number;
  lockedUntilMs: number;
}

/** A guard accepting `options.keys`. */
export function createAuthGuard(options: AuthGuardOptions): AuthGuard {
  const toAccepted = (k: AccessKeyPair): AcceptedKey => ({
    credentials: new Credentials(k.ak, k.sk),
    securityToken: k.securityToken || undefined,
  });
  const keys = new Map<string, AcceptedKey>(options.keys.map((k) => [k.ak, toAccepted(k)]));
  const streaks = new Map<string, Streak>();
  const projects = new Map(
    options.keys.filter((k) => k.projects !== undefined).map((k) => [k.ak, new Set(k.projects)]),
  );
  const revoked = new Set<string>();

  const fail = (reason: string, accessKeyId?: string): AuthOutcome => ({ ok: false, accessKeyId, reason });

  return {
    check(request) {
      const auth = parseAuthorization(headerValue(request.headers, 'authorization'));
      if (auth === undefined) return fail('Authorization header is missing or malformed');
      if (revoked.has(auth.accessKeyId)) return fail('access key revoked', auth.accessKeyId);
      const temporary = keys.has(auth.accessKeyId) ? undefined : options.lookupTemporary?.(auth.accessKeyId);
      if (temporary?.expired) return fail('the security token has expired', auth.accessKeyId);
      const key = keys.get(auth.accessKeyId) ?? temporary?.key;
      if (key === undefined) return fail('unknown access key', auth.accessKeyId);
      const nowMs = options.now();
      const streak = streaks.get(auth.accessKeyId) ?? { failures: 0, lockedUntilMs: 0 };
      if (streak.lockedUntilMs > nowMs)
        return fail('access key locked after repeated failures', auth.accessKeyId);
      if (streak.lockedUntilMs !== 0) streak.failures = 0;
      streak.lockedUntilMs = 0;

      const allowed = projects.get(auth.accessKeyId);
      const project = headerValue(request.headers, 'x-project-id') ?? '';
      const problem =
        findSignatureProblem(request, auth, key, nowMs) ??
        (allowed === undefined || allowed.has(project)
          ? undefined
          : `the access key has no access to project ${project}`);
      if (problem === undefined) {
        streaks.delete(auth.accessKeyId);
        return { ok: true, accessKeyId: auth.accessKeyId };
      }
      streak.failures += 1;
      if (streak.failures > options.maxFailures) streak.lockedUntilMs = nowMs + options.lockoutMs;
      streaks.set(auth.accessKeyId, streak);
      return fail(problem, auth.accessKeyId);
    },
    lockedAccessKeys() {
      const nowMs = options.now();
      return [...streaks].filter(([, s]) => s.lockedUntilMs > nowMs).map(([ak]) => ak);
    },
    reset: () => streaks.clear(),
    addKey(pair) {
      revoked.delete(pair.ak);
      keys.set(pair.ak, toAccepted(pair));
    },
    revokeKey(accessKeyId) {
      const known = keys.has(accessKeyId) || options.lookupTemporary?.(accessKeyId) !== undefined;
      keys.delete(accessKeyId);
      if (known) revoked.add(accessKeyId);
      return known;
    },
  };
}
