/**
 * Credentials for signing, cached for the hot path and refreshed before they expire.
 *
 *   fetched ──(now >= refreshAt)──> still served; one background refresh (single flight)
 *      │                              success: the new set replaces it; failure: retried after retryMs
 *      └──(now >= usableUntil)──> not served: callers wait for the refresh (single flight)
 *
 * refreshAt = expiresAt - margin - jitter, but never before half the lifetime has passed (a short
 * token must not be refetched on every call); usableUntil = expiresAt - min(60 s, lifetime / 10).
 * A source without expiry (a file) sets `recheckMs`: refreshAt = fetchedAt + recheckMs.
 * After a 401 with credentials C, {@link CredentialProvider.renewAfterRejection} answers newer credentials
 * when C is not the newest set, or when a refresh of C was due (or the source asks for one after every
 * 401, as a credentials file does) and it yields a different set; otherwise undefined: a genuine
 * authentication failure, for the circuit breaker. Pure: no I/O, the clock and the fetch are passed in.
 */
import { CleanupError } from '../errors.js';
import type { Credentials } from './credentials.js';

/** One set of credentials as a source issues it. */
export interface IssuedCredentials {
  credentials: Credentials;
  /** Epoch ms; undefined for credentials that do not expire. */
  expiresAtMs?: number | undefined;
}

export interface CredentialProvider {
  /** The cached set, without waiting, when usable (a due refresh starts in the background); else undefined. */
  current(): Credentials | undefined;
  /** Usable credentials, waiting for a refresh when none are; throws CREDENTIALS_UNAVAILABLE. */
  fresh(): Promise<Credentials>;
  /** After a 401 answered to a call signed with `used`: a different set to retry once with, or undefined. */
  renewAfterRejection(used: Credentials): Promise<Credentials | undefined>;
}

export interface RefreshingProviderOptions {
  /** Asks the source for a set; may reject. */
  fetch: () => Promise<IssuedCredentials>;
  /** Epoch ms. */
  now: () => number;
  /** In [0, 1). */
  random: () => number;
  refreshMarginMs: number;
  refreshJitterMs: number;
  /** For sources that never expire: how often to fetch again (a file is checked for a change). */
  recheckMs?: number;
  /** Wait after a failed refresh before the next one (default 5 s). */
  retryMs?: number;
  /** Fetch again after every 401, not only when a refresh was due (cheap local sources). */
  refreshOnEveryRejection?: boolean;
  /** Told of each failed background refresh (the error names no secret). */
  onRefreshError?: (err: unknown) => void;
}

interface Held {
  credentials: Credentials;
  refreshAtMs: number;
  usableUntilMs: number;
}

/** A provider that never refreshes: static keys from the environment. */
export function createStaticCredentialProvider(credentials: Credentials): CredentialProvider {
  return {
    current: () => credentials,
    fresh: () => Promise.resolve(credentials),
    renewAfterRejection: () => Promise.resolve(undefined),
  };
}

/** A provider over a refreshing source; nothing is fetched before the first call. */
export function createRefreshingCredentialProvider(options: RefreshingProviderOptions): CredentialProvider {
  const retryMs = options.retryMs ?? 5_000;
  let held: Held | undefined;
  let inflight: Promise<Credentials> | undefined;
  let lastFailure: { atMs: number; error: unknown } | undefined;

  const schedule = (issued: IssuedCredentials, fetchedAtMs: number): Held => {
    const { credentials, expiresAtMs } = issued;
    if (expiresAtMs === undefined) {
      const refreshAtMs = fetchedAtMs + (options.recheckMs ?? Number.POSITIVE_INFINITY);
      return { credentials, refreshAtMs, usableUntilMs: Number.POSITIVE_INFINITY };
    }
    const lifetimeMs = Math.max(0, expiresAtMs - fetchedAtMs);
    const early = options.refreshMarginMs + options.random() * options.refreshJitterMs;
    const refreshAtMs = Math.max(expiresAtMs - early, fetchedAtMs + lifetimeMs / 2);
    return { credentials, refreshAtMs, usableUntilMs: expiresAtMs - Math.min(60_000, lifetimeMs / 10) };
  };

  const refresh = (): Promise<Credentials> => {
    inflight ??= (async () => {
      try {
        const issued = await options.fetch();
        const kept = held !== undefined && isSameSet(held.credentials, issued.credentials);
        held = schedule(kept ? { ...issued, credentials: held!.credentials } : issued, options.now());
        lastFailure = undefined;
        return held.credentials;
      } catch (err) {
        lastFailure = { atMs: options.now(), error: err };
        throw err;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };

  const inBackoff = (): boolean => lastFailure !== undefined && options.now() < lastFailure.atMs + retryMs;

  const startBackgroundRefresh = (): void => {
    if (inflight !== undefined || inBackoff()) return;
    refresh().catch((err: unknown) => options.onRefreshError?.(err));
  };

  const isUsable = (h: Held | undefined, nowMs: number): h is Held =>
    h !== undefined && nowMs < h.usableUntilMs;

  return {
    current() {
      const nowMs = options.now();
      if (held !== undefined && nowMs >= held.refreshAtMs) startBackgroundRefresh();
      return isUsable(held, nowMs) ? held.credentials : undefined;
    },
    async fresh() {
      if (isUsable(held, options.now())) return held.credentials;
      if (inflight === undefined && inBackoff()) throw unavailable(lastFailure!.error);
      try {
        return await refresh();
      } catch (err) {
        throw unavailable(err);
      }
    },
    async renewAfterRejection(used) {
      const nowMs = options.now();
      if (held === undefined) return undefined;
      if (held.credentials !== used) return isUsable(held, nowMs) ? held.credentials : undefined;
      const due = options.refreshOnEveryRejection === true || nowMs >= held.refreshAtMs;
      if (!due) return undefined;
      try {
        const renewed = await refresh();
        return renewed === used ? undefined : renewed;
      } catch (err) {
        options.onRefreshError?.(err);
        return undefined;
      }
    },
  };
}

/** Same AK, token and SK (compared through an HMAC: the SK itself is not readable). */
export function isSameSet(a: Credentials, b: Credentials): boolean {
  return (
    a.accessKeyId === b.accessKeyId &&
    a.securityToken() === b.securityToken() &&
    a.hmacHex('same-set') === b.hmacHex('same-set')
  );
}

function unavailable(cause: unknown): CleanupError {
  if (cause instanceof CleanupError && cause.code === 'CREDENTIALS_UNAVAILABLE') return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new CleanupError('CREDENTIALS_UNAVAILABLE', `no usable credentials: ${why}`, { cause });
}
