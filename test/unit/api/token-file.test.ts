import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTokensFile, tokenDigest } from '../../../src/api/token-file.js';
import { resolveApiAuth } from '../../../src/api/api-auth.js';
import { hashTokenInput } from '../../../src/cli/token-command.js';
import { configError } from '../../support/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'token-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const DIGEST = tokenDigest('a-token-of-sixteen-or-more');

describe('the tokens file', () => {
  it('reads YAML and JSON alike, by digest', () => {
    const yaml = file(
      't.yaml',
      `tokens:\n  - label: ci\n    sha256: ${DIGEST.toUpperCase()}\n    scopes: [read, enqueue]\n`,
    );
    const json = file(
      't.json',
      JSON.stringify({ tokens: [{ label: 'ci', sha256: DIGEST, scopes: ['read', 'enqueue'] }] }),
    );
    for (const path of [yaml, json]) {
      expect(readTokensFile(path).get(DIGEST)).toEqual({ label: 'ci', scopes: ['read', 'enqueue'] });
    }
  });

  it('is validated whole: every bad field is named, never a token', () => {
    const path = file(
      'bad.yaml',
      `tokens:\n  - label: ci\n    sha256: ${DIGEST}\n    scopes: [read]\n  - label: ci\n    sha256: plain-token-here\n    scopes: [write]\n    extra: 1\n`,
    );
    const { message } = configError(() => readTokensFile(path));
    expect(message).toContain('CLEANUP_API_TOKENS_FILE');
    expect(message).toContain('tokens[1].sha256: must be the 64 hex digits');
    expect(message).toContain('tokens[1].scopes[0]');
    expect(message).toContain('tokens[1]: Unrecognized key');
    expect(message).not.toContain('plain-token-here');
  });

  it('refuses a label or a digest used twice', () => {
    const entry = `  - label: ci\n    sha256: ${DIGEST}\n    scopes: [read]\n`;
    const { message } = configError(() => readTokensFile(file('twice.yaml', `tokens:\n${entry}${entry}`)));
    expect(message).toContain('tokens[1].label: used twice');
    expect(message).toContain('tokens[1].sha256: used twice');
  });

  it('a missing or unparsable file stops the server at start', () => {
    expect(configError(() => readTokensFile(join(dir, 'nope.yaml'))).message).toContain('ENOENT');
    expect(configError(() => readTokensFile(file('junk.yaml', 'tokens: [\n'))).message).toContain(
      'not YAML or JSON',
    );
    const auth = () =>
      resolveApiAuth({
        token: undefined,
        tokensFile: join(dir, 'nope.yaml'),
        insecureNoAuth: false,
        host: '0.0.0.0',
      });
    expect(configError(auth).message).toContain('CLEANUP_API_TOKENS_FILE');
  });

  it('alone is enough to serve; with --insecure-no-auth it is refused', () => {
    const path = file('ok.yaml', `tokens:\n  - label: ci\n    sha256: ${DIGEST}\n    scopes: [read]\n`);
    expect(
      resolveApiAuth({ token: undefined, tokensFile: path, insecureNoAuth: false, host: '0.0.0.0' }),
    ).toEqual({
      tokensFile: path,
    });
    expect(
      configError(() =>
        resolveApiAuth({ token: undefined, tokensFile: path, insecureNoAuth: true, host: '127.0.0.1' }),
      ).message,
    ).toContain('drop --insecure-no-auth');
  });
});

describe('token hash', () => {
  it('prints the digest the file stores, without the line break', () => {
    expect(hashTokenInput('a-token-of-sixteen-or-more\n')).toBe(DIGEST);
    // FIPS 180-2's test vector: the digest is plain SHA-256 hex, as `sha256sum` prints it.
    expect(tokenDigest('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses short or multi-line input', () => {
    expect(() => hashTokenInput('short\n')).toThrow(/at least 16/);
    expect(() => hashTokenInput('a-token-of-sixteen\nor-more\n')).toThrow(/one line/);
  });
});
