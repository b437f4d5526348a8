import { createHmac } from 'node:crypto';
import { format, inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Credentials, maskSecret } from '../../../src/huawei/credentials.js';
import { createLogger } from '../../../src/observability/logger.js';

const AK = 'HPUAEXAMPLEAK0000001';
const SK = 'exampleSecretKey-SK-0123456789abcdefghijkl';
const TOKEN = 'exampleSecurityToken-TOKEN-gQpjbi1ub3J0aC00';

function temporaryCredentials(): Credentials {
  return new Credentials(AK, SK, TOKEN);
}

/** Fails naming the rendering that leaked, not just "expected true to be false". */
function expectNoSecret(rendering: string, how: string): void {
  expect(rendering, `${how} shows the SK`).not.toContain(SK);
  expect(rendering, `${how} shows the security token`).not.toContain(TOKEN);
}

/** A pino logger with the project's settings whose records land in `lines`. */
function captureLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'trace',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { lines, logger };
}

describe('Credentials keep the SK and the security token out of every rendering', () => {
  it('renders String(c) and template literals masked', () => {
    const c = temporaryCredentials();
    expectNoSecret(String(c), 'String(c)');
    // Interpolating the object itself is the point: a template literal must go through toString().
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
    expectNoSecret(`${c}`, 'a template literal');
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
    expectNoSecret(`job ${JSON.stringify({ id: 1 })} with ${c}`, 'a template literal among other values');
    expect(String(c)).toBe('Credentials(HPUA****, temporary)');
  });

  it('renders util.inspect masked, also nested in objects and arrays and with customInspect off', () => {
    const c = temporaryCredentials();
    expectNoSecret(inspect(c), 'inspect(c)');
    expectNoSecret(inspect({ deps: { auth: [c] } }, { depth: Infinity }), 'inspect of a nested object');
    expectNoSecret(inspect(c, { showHidden: true, getters: true }), 'inspect with showHidden and getters');
    expectNoSecret(inspect(c, { customInspect: false, showHidden: true }), 'inspect without the custom hook');
    expect(inspect({ c })).toContain('HPUA****');
  });

  it('renders JSON.stringify masked, also nested', () => {
    const c = temporaryCredentials();
    expectNoSecret(JSON.stringify(c), 'JSON.stringify(c)');
    expectNoSecret(
      JSON.stringify({ job: { credentials: c, list: [c] } }),
      'JSON.stringify of a nested object',
    );
    expect(JSON.parse(JSON.stringify(c))).toEqual({ accessKeyId: 'HPUA****', temporary: true });
  });

  it('renders console.log-style formatting (%s %o %O %j) masked', () => {
    const c = temporaryCredentials();
    expectNoSecret(format('%s %o %O %j', c, c, c, c), "format('%s %o %O %j')");
    expectNoSecret(format('%o %O %j', { c }, { c }, { c }), 'format of nested objects');
    expectNoSecret(format(c), 'format(c)');
  });

  it('exposes only the AK as an own property (spread, Object.entries, structuredClone)', () => {
    const c = temporaryCredentials();
    expectNoSecret(JSON.stringify({ ...c }), 'a spread copy');
    expectNoSecret(JSON.stringify(Object.entries(c)), 'Object.entries');
    expectNoSecret(inspect(structuredClone(c)), 'structuredClone');
  });

  it('keeps the secrets out of pino records that log the credentials object', () => {
    const c = temporaryCredentials();
    const { lines, logger } = captureLogger();
    logger.info({ credentials: c }, 'credentials as a field');
    logger.info({ job: { deps: { credentials: c } } }, 'credentials nested');
    logger.info(c, 'credentials as the merge object');
    logger.info('interpolated %s %o %O %j', c, c, c, c);
    logger.error({ err: new Error('boom', { cause: c }), credentials: c }, 'with an error');
    logger.child({ credentials: c }).warn('credentials in a child binding');

    expect(lines).toHaveLength(6);
    for (const line of lines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
      expectNoSecret(line, `the pino record ${line}`);
    }
  });

  // Reported, not fixed here: the redaction layer copies the object without its private fields, so
  // Credentials#toJSON throws on the copy and pino prints "[unable to serialize ...]" instead of the masked
  // form. The secrets stay out (test above); the record just loses the AK hint.
  it('shows the masked form in a pino record that logs { credentials }', () => {
    const { lines, logger } = captureLogger();
    logger.info({ credentials: temporaryCredentials() }, 'credentials as a field');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      credentials: { accessKeyId: 'HPUA****', temporary: true },
    });
  });

  it('returns the security token only through securityToken(), and treats an empty token as none', () => {
    expect(temporaryCredentials().securityToken()).toBe(TOKEN);
    expect(new Credentials(AK, SK, '').securityToken()).toBeUndefined();
    expect(String(new Credentials(AK, SK))).toBe('Credentials(HPUA****)');
  });

  it('masks short values completely', () => {
    expect(maskSecret('abcdefgh')).toBe('abcd****');
    expect(maskSecret('abcdefg')).toBe('****');
    expect(maskSecret('')).toBe('****');
  });
});

describe('Credentials#hmacHex', () => {
  it('matches node:crypto HMAC-SHA256 keyed with the SK as UTF-8', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
        fc.string({ unit: 'binary', maxLength: 256 }),
        (sk, data) => {
          const expected = createHmac('sha256', Buffer.from(sk, 'utf8')).update(data, 'utf8').digest('hex');
          expect(new Credentials(AK, sk).hmacHex(data)).toBe(expected);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('gives the well-known HMAC-SHA256 value for key "key" and the quick brown fox', () => {
    const c = new Credentials(AK, 'key');
    expect(c.hmacHex('The quick brown fox jumps over the lazy dog')).toBe(
      'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });
});
