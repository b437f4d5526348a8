/**
 * Huawei Cloud APIG `SDK-HMAC-SHA256` request signing: pure, no I/O, the clock is passed in.
 *
 * Canonical request (six parts joined by "\n"):
 *   METHOD
 *   canonical URI    each path segment RFC 3986-encoded, always ending in "/" (for signing only)
 *   canonical query  name=value pairs, both encoded, sorted by name then value, joined by "&"
 *   canonical headers  "name:value\n" per signed header, lower-case names, sorted
 *   signed headers   the same names joined by ";"
 *   hex(sha256(body))
 * String to sign: "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex(sha256(canonical request)).
 * Signature: hex(HMAC-SHA256(key = SK as UTF-8, string to sign)).
 */
import { createHash } from 'node:crypto';
import { CleanupError } from '../errors.js';
import type { Credentials } from './credentials.js';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

/** Headers this signer signs when present; the gateway requires only x-sdk-date. */
const SIGNED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'content-type',
  'host',
  'x-project-id',
  'x-sdk-date',
  'x-security-token',
]);

/** Shared, never written to: what an absent query reads as. */
const NO_PARAMS = new URLSearchParams();

const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export type QueryValue = string | number | boolean;
export type QueryParams = Readonly<Record<string, QueryValue | readonly QueryValue[] | undefined>>;

export interface SignableRequest {
  method: string;
  /** Absolute URL; its own query string, if any, is signed together with `query`. */
  url: string | URL;
  query?: QueryParams;
  /** Headers to send. An `X-Sdk-Date` here is used as is (for reproducible vectors). */
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
}

export interface SignedRequest {
  /** Every header to send: the input ones plus host, X-Sdk-Date, X-Security-Token and Authorization. */
  headers: Record<string, string>;
  authorization: string;
  signedHeaders: string;
  canonicalRequest: string;
  stringToSign: string;
}

/**
 * Signs `request` at time `now` and returns the headers to send with it. INVALID_INPUT for what
 * cannot be signed: a URL that does not parse, an invalid Date, a lone UTF-16 surrogate in a query.
 */
export function signRequest(request: SignableRequest, credentials: Credentials, now: Date): SignedRequest {
  const url = toUrl(request.url);
  const headers: Record<string, string> = { ...request.headers };
  // One pass over the caller's names for the three headers it may have set itself.
  let sdkDate: string | undefined;
  let hasHost = false;
  let hasToken = false;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'x-sdk-date') sdkDate ??= headers[name];
    else if (lower === 'host') hasHost = true;
    else if (lower === 'x-security-token') hasToken = true;
  }
  sdkDate ??= setHeader(headers, 'X-Sdk-Date', formatSdkDate(now));
  if (!hasHost) headers.host = url.host;
  const token = credentials.securityToken();
  if (token !== undefined && !hasToken) headers['X-Security-Token'] = token;

  const signedHeaders = selectSignedHeaders(headers);
  const canonicalRequest = buildCanonicalRequest({
    method: request.method,
    pathname: url.pathname,
    // Reading url.searchParams builds and parses a URLSearchParams: not for the usual empty query.
    searchParams: url.search === '' ? NO_PARAMS : url.searchParams,
    query: request.query,
    signedHeaders,
    payloadHash: hashPayload(request.body),
  });
  const stringToSign = buildStringToSign(sdkDate, canonicalRequest);
  const signature = credentials.hmacHex(stringToSign);
  const names = signedHeaders.map(([n]) => n).join(';');
  const authorization = `${SIGNING_ALGORITHM} Access=${credentials.accessKeyId}, SignedHeaders=${names}, Signature=${signature}`;
  headers.Authorization = authorization;
  return { headers, authorization, signedHeaders: names, canonicalRequest, stringToSign };
}

let lastSdkDate = { second: NaN, text: '' };

/** `YYYYMMDDTHHMMSSZ` in UTC; INVALID_INPUT for an invalid Date. */
export function formatSdkDate(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) {
    throw new CleanupError('INVALID_INPUT', 'the signing time is an invalid Date', { field: 'now' });
  }
  // Every request of the same second has the same X-Sdk-Date: format it once a second.
  const second = Math.floor(ms / 1000);
  if (second !== lastSdkDate.second) {
    lastSdkDate = {
      second,
      text: date
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, ''),
    };
  }
  return lastSdkDate.text;
}

/** Parses `YYYYMMDDTHHMMSSZ`; undefined when malformed. */
export function parseSdkDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  // Out-of-range fields would roll over silently, and Date.UTC maps years 0-99 to 1900-1999.
  if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1 ? undefined : date;
}

/**
 * RFC 3986 unreserved characters stay; everything else is `%XX` (upper-case hex over UTF-8).
 * INVALID_INPUT for a lone surrogate, which has no UTF-8 form.
 */
export function encodeRfc3986(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new CleanupError('INVALID_INPUT', 'a path segment or query parameter is not well-formed Unicode', {
      field: 'url',
    });
  }
  return encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string to put on the wire, encoded exactly as it is signed. */
export function buildQueryString(query: QueryParams | undefined): string {
  return buildCanonicalQuery(new URLSearchParams(), query);
}

export function buildCanonicalUri(pathname: string): string {
  const encoded = UNRESERVED_PATH.test(pathname)
    ? pathname
    : pathname
        .split('/')
        .map((segment) => encodeRfc3986(safeDecode(segment)))
        .join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** A path of RFC 3986 unreserved characters and "/" decodes and encodes to itself (DCS ids do). */
const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

export function buildCanonicalQuery(fromUrl: URLSearchParams, query: QueryParams | undefined): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of fromUrl) pairs.push([name, value]);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? (value as readonly QueryValue[]) : [value as QueryValue];
    for (const v of values) pairs.push([name, String(v)]);
  }
  // Sorted on the raw names and values, then encoded: the official SDK's order ("a." before "a/").
  pairs.sort(([an, av], [bn, bv]) => compare(an, bn) || compare(av, bv));
  return pairs.map(([n, v]) => `${encodeRfc3986(n)}=${encodeRfc3986(v)}`).join('&');
}

/** What the signature covers; the same steps serve a client signing and a server verifying. */
export interface CanonicalRequestParts {
  method: string;
  /** The path as sent on the wire (percent-encoded or not: segments are decoded, then re-encoded). */
  pathname: string;
  searchParams: URLSearchParams;
  query?: QueryParams | undefined;
  /** `[lower-case name, value]` of every signed header, in any order. */
  signedHeaders: readonly (readonly [string, string])[];
  /** Hex SHA-256 of the body, see {@link hashPayload}. */
  payloadHash: string;
}

/** The six-line canonical request described in the module header. */
export function buildCanonicalRequest(parts: CanonicalRequestParts): string {
  const headers = [...parts.signedHeaders].sort(([a], [b]) => compare(a, b));
  return [
    parts.method.toUpperCase(),
    buildCanonicalUri(parts.pathname),
    buildCanonicalQuery(parts.searchParams, parts.query),
    headers.map(([n, v]) => `${n}:${v.trim()}\n`).join(''),
    headers.map(([n]) => n).join(';'),
    parts.payloadHash,
  ].join('\n');
}

/** `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256 of the canonical request>`. */
export function buildStringToSign(sdkDate: string, canonicalRequest: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonicalRequest)}`;
}

/** Hex SHA-256 of a request body; the empty or missing body has a constant hash. */
export function hashPayload(body: string | Uint8Array | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_BODY_SHA256;
  return createHash('sha256').update(body).digest('hex');
}

function selectSignedHeaders(headers: Record<string, string>): [string, string][] {
  const entries: [string, string][] = [];
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (SIGNED_HEADER_NAMES.has(lower)) entries.push([lower, headers[name]!]);
  }
  return entries.sort(([a], [b]) => compare(a, b));
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function setHeader(headers: Record<string, string>, name: string, value: string): string {
  headers[name] = value;
  return value;
}

function toUrl(value: string | URL): URL {
  if (typeof value !== 'string') return value;
  try {
    return new URL(value);
  } catch {
    throw new CleanupError('INVALID_INPUT', 'the request URL is not an absolute URL', { field: 'url' });
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
