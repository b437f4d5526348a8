/**
 * Server side of `SDK-HMAC-SHA256`, as the API gateway checks it: the canonical request is rebuilt
 * from what was received (method, path, query, the headers the client says it signed, the body hash)
 * with the same pure steps the client signer uses, then signed with the SK of the AK named in the
 * header and compared in constant time. Pure: the clock is passed in.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Credentials } from '../huawei/credentials.js';
import { buildCanonicalRequest, buildStringToSign, hashPayload, parseSdkDate } from '../huawei/signer.js';

/** How far `X-Sdk-Date` may be from the gateway's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

const AUTHORIZATION_PATTERN =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/;

/** The parts of a received request the signature covers. */
export interface ReceivedRequest {
  method: string;
  /** The path as received, without the query string. */
  path: string;
  /** The raw query string, without `?`. */
  query: string;
  /** Node's view: lower-case names. */
  headers: IncomingHttpHeaders;
  body?: Uint8Array | undefined;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** An accepted key pair; with `securityToken`, requests must carry and sign that `X-Security-Token`. */
export interface AcceptedKey {
  credentials: Credentials;
  securityToken?: string | undefined;
}

/** Parses `SDK-HMAC-SHA256 Access=..., SignedHeaders=a;b, Signature=...`; undefined when malformed. */
export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  const m = value === undefined ? null : AUTHORIZATION_PATTERN.exec(value);
  if (!m) return undefined;
  const [, accessKeyId = '', names = '', signature = ''] = m;
  return { accessKeyId, signedHeaders: names.toLowerCase().split(';'), signature: signature.toLowerCase() };
}

/** Why the signature is refused, or undefined when it is valid. */
export function findSignatureProblem(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  key: AcceptedKey,
  nowMs: number,
): string | undefined {
  const signed = new Set(auth.signedHeaders);
  const sdkDate = headerValue(request.headers, 'x-sdk-date');
  if (sdkDate === undefined || !signed.has('x-sdk-date')) return 'x-sdk-date must be sent and signed';
  const date = parseSdkDate(sdkDate);
  if (date === undefined) return 'x-sdk-date is not YYYYMMDDTHHMMSSZ';
  if (Math.abs(date.getTime() - nowMs) > MAX_CLOCK_SKEW_MS) return 'x-sdk-date is more than 15 minutes off';
  if (key.securityToken !== undefined) {
    const token = headerValue(request.headers, 'x-security-token');
    if (
      token === undefined ||
      !signed.has('x-security-token') ||
      !equalsInConstantTime(token, key.securityToken)
    ) {
      return 'x-security-token is missing, unsigned or wrong';
    }
  }
  const signedHeaders: [string, string][] = [];
  for (const name of signed) {
    const value = headerValue(request.headers, name);
    if (value === undefined) return `signed header ${name} is missing`;
    signedHeaders.push([name, value]);
  }
  const canonicalRequest = buildCanonicalRequest({
    method: request.method,
    pathname: request.path,
    searchParams: new URLSearchParams(request.query),
    signedHeaders,
    payloadHash: hashPayload(request.body),
  });
  const expected = key.credentials.hmacHex(buildStringToSign(sdkDate, canonicalRequest));
  return equalsInConstantTime(auth.signature, expected) ? undefined : 'signature mismatch';
}

/** Constant time for equal lengths; lengths are not secret (a signature is always 64 hex characters). */
export function equalsInConstantTime(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A header as one string (Node joins repeated headers with ", "), or undefined when absent. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}
