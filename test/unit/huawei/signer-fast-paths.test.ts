import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCanonicalUri, encodeRfc3986, formatSdkDate } from '../../../src/huawei/signer.js';

/** The canonical URI the long way: every segment decoded, then RFC 3986-encoded. */
function canonicalUriByParts(pathname: string): string {
  const encoded = pathname
    .split('/')
    .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
    .join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

const unreservedPath = fc.stringMatching(/^(\/[A-Za-z0-9\-._~]{0,12}){0,6}\/?$/);

describe('signer fast paths', () => {
  it('gives a path of unreserved characters the same canonical URI as the segment-by-segment encoding', () => {
    fc.assert(fc.property(unreservedPath, (p) => buildCanonicalUri(p) === canonicalUriByParts(p)));
    expect(buildCanonicalUri('/v2/p-1/instances/i.2/tasks/t~3')).toBe('/v2/p-1/instances/i.2/tasks/t~3/');
  });

  it('formats X-Sdk-Date right for any sequence of times, the once-a-second cache included', () => {
    const times = fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { minLength: 1, maxLength: 50 });
    fc.assert(
      fc.property(times, (ms) => {
        // Neighbours in the same second, in the next one and far away, in any order.
        for (const t of ms.flatMap((m) => [m, m + 1, m + 999, m + 1_000])) {
          const expected = new Date(t)
            .toISOString()
            .replace(/[-:]/g, '')
            .replace(/\.\d{3}/, '');
          expect(formatSdkDate(new Date(t))).toBe(expected);
        }
      }),
    );
    expect(formatSdkDate(new Date('2025-01-15T09:30:00.999Z'))).toBe('20250115T093000Z');
    expect(formatSdkDate(new Date('2025-01-15T09:30:01.000Z'))).toBe('20250115T093001Z');
  });
});
