import type { ICredential } from '@huaweicloud/huaweicloud-sdk-core/auth/ICredential.js';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Credentials } from '../../../src/huawei/credentials.js';
import { formatSdkDate, signRequest, type QueryParams } from '../../../src/huawei/signer.js';

/*
 * Random requests signed by our signer and by the official SDK's AKSKSigner.sign must carry the same
 * Authorization header. Inputs left out, and why:
 *  - Path segments are only [A-Za-z0-9-] (the shape of every project, instance and task id): the SDK
 *    percent-encodes the path url.parse already escaped, so "%" and what url.parse escapes (space, ' " < >
 *    { } | \ ^ `) come out double-encoded. Documented SDK quirk.
 *  - No URL spells out its scheme's default port (https://host:443, http://host:80): the SDK signs
 *    url.parse's "host:443" where the URL standard says "host". Documented SDK quirk. Other explicit
 *    ports are generated and must agree.
 *  - Query names, and the values of a repeated name, use only RFC 3986 unreserved characters. NOT a
 *    documented quirk but a real difference: the SDK sorts names and repeated values in their raw form, we
 *    sort the encoded form, and the orders differ for e.g. "a." and "a/" (see the it.fails cases below).
 *    Values of a non-repeated name are unrestricted: spaces, UTF-8, + / * ~ %, empty.
 *  - Not differences but how each side is called: the SDK signs every header it is given, so it gets only
 *    the ones we sign (unsigned headers are covered in signer.test.ts); header values have no surrounding
 *    spaces (we trim, the SDK does not); query values are never undefined (we drop them, the SDK would
 *    sign "undefined"); the method is upper-case, there is no body, and X-Security-Token is put in the
 *    headers before signing as the SDK's BaseCredentials.addAuthHeaders does.
 */

const UNRESERVED = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'];
const ID_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-'];
const SPECIALS = [..." +/*~%&=?#:!'(),;é日😀"];
const REGIONS = ['cn-north-4', 'ap-southeast-1', 'eu-west-101', 'ru-northwest-2', 'ae-ad-1', 'la-north-2'];

const id = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 40 });
const unreservedText = (minLength: number) =>
  fc.string({ unit: fc.constantFrom(...UNRESERVED), minLength, maxLength: 12 });
const anyText = fc.string({
  unit: fc.oneof(fc.constantFrom(...SPECIALS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  maxLength: 16,
});

const endpoint = fc.oneof(
  fc.constantFrom(...REGIONS).map((r) => `https://dcs.${r}.myhuaweicloud.com`),
  fc
    .tuple(
      fc.constantFrom(...REGIONS),
      fc.integer({ min: 1, max: 65_535 }).filter((p) => p !== 443),
    )
    .map(([r, port]) => `https://dcs.${r}.myhuaweicloud.com:${port}`),
  fc
    .integer({ min: 1, max: 65_535 })
    .filter((p) => p !== 80)
    .map((port) => `http://127.0.0.1:${port}`),
);

const path = fc.oneof(
  fc.tuple(id, id, id).map(([p, i, t]) => `/v2/${p}/instances/${i}/tasks/${t}`),
  fc.tuple(id, id).map(([p, i]) => `/v2/${p}/instances/${i}/tasks`),
  id.map((p) => `/v2/${p}/instances`),
);

const query: fc.Arbitrary<QueryParams> = fc.dictionary(
  unreservedText(1),
  fc.oneof(
    anyText,
    fc.constant(''),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.oneof(unreservedText(0), fc.integer()), { maxLength: 4 }),
  ),
  { maxKeys: 6 },
);

const token = fc.string({
  unit: fc.constantFrom(...UNRESERVED, '+', '/', '='),
  minLength: 1,
  maxLength: 200,
});

const requestCase = fc.record({
  method: fc.constantFrom('DELETE', 'GET'),
  url: fc.tuple(endpoint, path, fc.boolean()).map(([e, p, slash]) => `${e}${p}${slash ? '/' : ''}`),
  query,
  projectId: fc.option(fc.tuple(id, fc.constantFrom('X-Project-Id', 'x-project-id')), {
    nil: undefined,
    freq: 2,
  }),
  contentType: fc.option(
    fc.tuple(
      fc.constantFrom('application/json', 'application/json;charset=UTF-8'),
      fc.constantFrom('content-type', 'Content-Type'),
    ),
    { nil: undefined, freq: 2 },
  ),
  date: fc.date({
    min: new Date('1970-01-01T00:00:00Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  }),
  // true: the X-Sdk-Date header is supplied; false: both signers read the (faked) clock.
  dateInHeader: fc.boolean(),
  ak: unreservedText(1),
  sk: fc.string({ unit: 'binary', minLength: 1, maxLength: 48 }),
  securityToken: fc.option(token, { nil: undefined, freq: 2 }),
});

type RequestCase = typeof requestCase extends fc.Arbitrary<infer T> ? T : never;

function signWithSdk(c: RequestCase): string {
  const headers: Record<string, string> = {};
  if (c.projectId) headers[c.projectId[1]] = c.projectId[0];
  if (c.contentType) headers[c.contentType[1]] = c.contentType[0];
  if (c.dateInHeader) headers['X-Sdk-Date'] = formatSdkDate(c.date);
  if (c.securityToken !== undefined) headers['X-Security-Token'] = c.securityToken;
  // The SDK sorts array values in place: give it copies.
  const queryParams = Object.fromEntries(
    Object.entries(c.query).map(([name, value]) => [name, Array.isArray(value) ? [...value] : value]),
  );
  // AKSKSigner.sign only calls getAk() and getSk().
  const credential = { getAk: () => c.ak, getSk: () => c.sk } as Partial<ICredential> as ICredential;
  vi.setSystemTime(c.date);
  const signed = AKSKSigner.sign({ method: c.method, endpoint: c.url, queryParams, headers }, credential) as {
    Authorization: string;
  };
  return signed.Authorization;
}

function signWithOurs(c: RequestCase): string {
  const headers: Record<string, string> = {};
  if (c.projectId) headers[c.projectId[1]] = c.projectId[0];
  if (c.contentType) headers[c.contentType[1]] = c.contentType[0];
  if (c.dateInHeader) headers['X-Sdk-Date'] = formatSdkDate(c.date);
  const credentials = new Credentials(c.ak, c.sk, c.securityToken);
  return signRequest({ method: c.method, url: c.url, query: c.query, headers }, credentials, c.date)
    .authorization;
}

describe('signRequest against the official SDK signer on random requests', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it('produces the same Authorization header as AKSKSigner.sign', () => {
    fc.assert(
      fc.property(requestCase, (c) => {
        expect(signWithOurs(c)).toBe(signWithSdk(c));
      }),
      { seed: 20_250_115, numRuns: 400 },
    );
  });

  it('signs every generated shape at least once (the generators are not degenerate)', () => {
    const cases = fc.sample(requestCase, { seed: 20_250_115, numRuns: 400 });
    const seen = (predicate: (c: RequestCase) => boolean) => cases.filter(predicate).length;
    expect(seen((c) => c.securityToken !== undefined)).toBeGreaterThan(50);
    expect(seen((c) => c.projectId !== undefined && c.contentType !== undefined)).toBeGreaterThan(50);
    expect(seen((c) => c.projectId === undefined && c.contentType === undefined)).toBeGreaterThan(50);
    expect(seen((c) => Object.values(c.query).some((v) => v === ''))).toBeGreaterThan(20);
    expect(
      seen((c) => Object.values(c.query).some((v) => typeof v === 'string' && /[^\x20-\x7e]/.test(v))),
    ).toBeGreaterThan(20);
    expect(seen((c) => Object.values(c.query).some((v) => Array.isArray(v) && v.length > 1))).toBeGreaterThan(
      20,
    );
    expect(seen((c) => /:\d+\//.test(c.url))).toBeGreaterThan(50);
  });

  // Not documented SDK quirks but a difference in sort order (reported, not fixed here): these fail until
  // our signer sorts query names and repeated values by their raw form as every official SDK does.
  it('orders query names by their raw form like the SDK ("a." before "a/")', () => {
    const c = { ...baseCase(), query: { 'a/': '1', 'a.': '2' } };
    expect(signWithOurs(c)).toBe(signWithSdk(c));
  });

  it('orders the values of a repeated name by their raw form like the SDK ("~" before "é")', () => {
    const c = { ...baseCase(), query: { name: ['é', '~'] } };
    expect(signWithOurs(c)).toBe(signWithSdk(c));
  });
});

function baseCase(): RequestCase {
  return {
    method: 'GET',
    url: 'https://dcs.cn-north-4.myhuaweicloud.com/v2/p/instances/i/tasks',
    query: {},
    projectId: undefined,
    contentType: undefined,
    date: new Date('2025-01-15T09:30:00Z'),
    dateInHeader: true,
    ak: 'HPUAEXAMPLEAK0000001',
    sk: 'exampleSecretKey',
    securityToken: undefined,
  };
}
