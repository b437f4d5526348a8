import { afterAll, describe, expect, it } from 'vitest';
import { fastify } from 'fastify';
import { buildAuthHook, resolveApiAuth } from '../../../src/api/api-auth.js';
import { isLoopbackHost } from '../../../src/config/config.js';
import { isCleanupError } from '../../../src/errors.js';

const TOKEN = 'a-token-of-sixteen-or-more';

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isCleanupError(err, 'INVALID_CONFIG')) return err.message;
    throw err;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('resolveApiAuth', () => {
  it('uses the token when one is configured', () => {
    expect(resolveApiAuth({ token: TOKEN, insecureNoAuth: false, host: '0.0.0.0' })).toEqual({
      token: TOKEN,
    });
  });

  it('refuses to start without a token unless told to, and then only on loopback', () => {
    expect(
      configError(() => resolveApiAuth({ token: undefined, insecureNoAuth: false, host: '127.0.0.1' })),
    ).toMatch(/set CLEANUP_API_TOKEN/);
    expect(
      configError(() => resolveApiAuth({ token: undefined, insecureNoAuth: true, host: '0.0.0.0' })),
    ).toMatch(/only on a loopback host, not 0.0.0.0/);
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.1.2.3']) {
      expect(resolveApiAuth({ token: undefined, insecureNoAuth: true, host })).toEqual({
        insecureNoAuth: true,
      });
    }
  });

  it('refuses a short token, and a token together with --insecure-no-auth', () => {
    expect(
      configError(() => resolveApiAuth({ token: 'short', insecureNoAuth: false, host: '0.0.0.0' })),
    ).toMatch(/at least 16 characters/);
    expect(
      configError(() => resolveApiAuth({ token: TOKEN, insecureNoAuth: true, host: '127.0.0.1' })),
    ).toMatch(/drop --insecure-no-auth/);
  });

  it('knows loopback hosts from reachable ones', () => {
    expect(['10.0.0.1', '0.0.0.0', '::', 'example.com', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});

describe('buildAuthHook', () => {
  const app = fastify();
  app.get('/bearer', { onRequest: buildAuthHook({ token: TOKEN }) }, () => ({ ok: true }));
  app.get('/browser', { onRequest: buildAuthHook({ token: TOKEN }, { allowBasic: true }) }, () => ({
    ok: true,
  }));
  app.get('/open', { onRequest: buildAuthHook({ insecureNoAuth: true }) }, () => ({ ok: true }));
  afterAll(() => app.close());
  const status = async (url: string, authorization?: string) =>
    (await app.inject({ url, headers: authorization === undefined ? {} : { authorization } })).statusCode;
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('accepts the exact Bearer token only, whatever its length', async () => {
    expect(await status('/bearer', `Bearer ${TOKEN}`)).toBe(200);
    expect(await status('/bearer', `bearer ${TOKEN}`)).toBe(200);
    for (const wrong of [
      undefined,
      '',
      'Bearer',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `Bearer x`,
      TOKEN,
    ]) {
      expect(await status('/bearer', wrong)).toBe(401);
    }
    expect(await status('/bearer', basic('u', TOKEN))).toBe(401);
  });

  it('also takes the token as a Basic password where a browser needs it', async () => {
    expect(await status('/browser', basic('admin', TOKEN))).toBe(200);
    expect(await status('/browser', basic('', TOKEN))).toBe(200);
    expect(await status('/browser', basic(TOKEN, 'x'))).toBe(401);
    expect(await status('/browser', `Bearer ${TOKEN}`)).toBe(200);
  });

  it('lets everything through when auth is explicitly off', async () => {
    expect(await status('/open')).toBe(200);
  });
});
