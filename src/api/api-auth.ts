/**
 * Bearer-token authentication for /v1 and /admin. Both the configured and the presented token are
 * hashed with SHA-256 before `timingSafeEqual`, so neither the content nor the length of the
 * token leaks through response timing. The token is never logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CleanupError } from '../errors.js';
import { isLoopbackHost } from '../config/config.js';
import { ApiError } from './api-error.js';
import { TOKEN_SCOPES, readTokensFile, type TokenScope, type TokenStore } from './token-file.js';

/** A token must be at least this long: it is the only thing between the network and the queue. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * How the API authenticates: tokens, or nobody at all (loopback only, asked for explicitly). A
 * token has a label, logged with every request it authenticates (never the token itself):
 * CLEANUP_API_TOKEN is `default` and has every scope; the tokens of CLEANUP_API_TOKENS_FILE
 * (src/api/token-file.ts) each have their own label and scopes.
 */
export type ApiAuth = TokenAuth | { insecureNoAuth: true };

export interface TokenAuth {
  /** CLEANUP_API_TOKEN: every scope. */
  token?: string;
  /** Its label (default `default`). */
  label?: string;
  /** CLEANUP_API_TOKENS_FILE: scoped tokens, followed by createApi while the server runs. */
  tokensFile?: string;
}

/** True when `auth` asks for a token (the API's normal mode). */
export const requiresToken = (auth: ApiAuth): auth is TokenAuth => !('insecureNoAuth' in auth);

/** The label of the one token CLEANUP_API_TOKEN. */
export const DEFAULT_TOKEN_LABEL = 'default';
/** What requests are logged with when the server runs with --insecure-no-auth. */
export const NO_AUTH_LABEL = 'insecure-no-auth';

declare module 'fastify' {
  interface FastifyRequest {
    /** The label of the token that authenticated this request; null until (or unless) one did. */
    tokenLabel: string | null;
    /** The scopes of that token (every scope for CLEANUP_API_TOKEN and --insecure-no-auth). */
    tokenScopes: readonly TokenScope[] | null;
  }
}

export interface AuthSetting {
  token: string | undefined;
  /** CLEANUP_API_TOKENS_FILE: read and validated here, so a bad file stops the server at start. */
  tokensFile?: string | undefined;
  insecureNoAuth: boolean;
  host: string;
}

/**
 * The auth mode for a server about to listen on `host`; INVALID_CONFIG when there is no token
 * (unless `insecureNoAuth` on a loopback host), a token that is too short, or both a token and
 * `insecureNoAuth`.
 */
export function resolveApiAuth(setting: AuthSetting): ApiAuth {
  const { token, tokensFile, insecureNoAuth, host } = setting;
  if ((token !== undefined || tokensFile !== undefined) && insecureNoAuth) {
    const variable = token !== undefined ? 'CLEANUP_API_TOKEN' : 'CLEANUP_API_TOKENS_FILE';
    throw new CleanupError('INVALID_CONFIG', `${variable} is set: drop --insecure-no-auth`, {
      field: variable,
    });
  }
  if (tokensFile !== undefined) readTokensFile(tokensFile);
  if (token === undefined && tokensFile !== undefined) return { tokensFile };
  if (token !== undefined) {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new CleanupError(
        'INVALID_CONFIG',
        `CLEANUP_API_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters`,
        {
          field: 'CLEANUP_API_TOKEN',
        },
      );
    }
    return tokensFile === undefined ? { token } : { token, tokensFile };
  }
  if (!insecureNoAuth) {
    throw new CleanupError(
      'INVALID_CONFIG',
      'set CLEANUP_API_TOKEN (e.g. `openssl rand -hex 32`) or CLEANUP_API_TOKENS_FILE; to run without auth on a loopback host pass --insecure-no-auth',
      { field: 'CLEANUP_API_TOKEN' },
    );
  }
  if (!isLoopbackHost(host)) {
    throw new CleanupError(
      'INVALID_CONFIG',
      `--insecure-no-auth is allowed only on a loopback host, not ${host}`,
      {
        field: 'API_HOST',
      },
    );
  }
  return { insecureNoAuth: true };
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The token a request presents: `Bearer <token>`, or with `allowBasic` the password of Basic auth. */
function presentedToken(header: string | undefined, allowBasic: boolean): string | undefined {
  if (header === undefined) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = allowBasic ? /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header) : null;
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/**
 * An onRequest hook enforcing `auth`. It runs before the body is read, so an unauthenticated
 * client cannot make the server parse a large body. With `allowBasic` (Bull Board, opened in a
 * browser) the token is also accepted as the password of Basic auth, and a 401 asks for it. The
 * scoped tokens are looked up by the SHA-256 digest of the presented token: a map lookup of a
 * digest tells a timing observer nothing about any token. With `scope`, a token without it is 403.
 */
export function buildAuthHook(
  auth: ApiAuth,
  options: { allowBasic?: boolean; tokens?: Pick<TokenStore, 'lookup'>; scope?: TokenScope } = {},
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  const allowBasic = options.allowBasic ?? false;
  const expected = requiresToken(auth) && auth.token !== undefined ? sha256(auth.token) : undefined;
  const label = requiresToken(auth) ? (auth.label ?? DEFAULT_TOKEN_LABEL) : NO_AUTH_LABEL;
  return async (request, reply) => {
    if (!requiresToken(auth)) {
      request.tokenLabel = label;
      request.tokenScopes = TOKEN_SCOPES;
      return undefined;
    }
    const token = presentedToken(request.headers.authorization, allowBasic);
    const digest = token === undefined ? undefined : sha256(token);
    if (digest !== undefined && expected !== undefined && timingSafeEqual(digest, expected)) {
      request.tokenLabel = label;
      request.tokenScopes = TOKEN_SCOPES;
    } else {
      const grant = digest === undefined ? undefined : options.tokens?.lookup(digest.toString('hex'));
      if (grant === undefined) {
        const error = new ApiError(
          'UNAUTHORIZED',
          token === undefined ? 'missing Authorization: Bearer <token>' : 'the token is not valid',
        );
        // Answered here rather than thrown: Bull Board's routes have their own error handler.
        return reply
          .status(401)
          .header('www-authenticate', allowBasic ? 'Basic realm="dcs-cleanup", charset="UTF-8"' : 'Bearer')
          .send(error.toBody());
      }
      request.tokenLabel = grant.label;
      request.tokenScopes = grant.scopes;
    }
    return options.scope === undefined ? undefined : refuseWithoutScope(request, reply, options.scope);
  };
}

/** Answers 403 MISSING_SCOPE when the request's token lacks `scope`; undefined when it has it. */
export function refuseWithoutScope(
  request: FastifyRequest,
  reply: FastifyReply,
  scope: TokenScope,
): FastifyReply | undefined {
  if (request.tokenScopes?.includes(scope) === true) return undefined;
  const error = new ApiError(
    'MISSING_SCOPE',
    `the token ${request.tokenLabel ?? ''} lacks the \`${scope}\` scope this route needs`,
  );
  return reply.status(403).send(error.toBody());
}

/** `host[:port]` of a Host header: `127.0.0.1:8080`, `localhost`, `[::1]:8080`; undefined when malformed. */
function hostOf(header: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header);
  return match?.[1];
}

/** True when a Host header names a loopback literal (127.0.0.0/8, [::1], localhost), with or without port. */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  const host = header === undefined ? undefined : hostOf(header.trim());
  return host !== undefined && isLoopbackHost(host);
}

/**
 * With `--insecure-no-auth` the loopback address is the only protection, and DNS rebinding gets
 * around it: a page on `rebind.attacker.example` whose name later resolves to 127.0.0.1 makes the
 * victim's browser call this server as a same-origin request. A browser sends that page's host in
 * `Host` and an `Origin` on cross-site and non-GET requests; local tools (curl, services) send
 * neither. So every request naming another host, or carrying an `Origin`, is answered 403.
 */
export function buildLoopbackGuard(): (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    let problem: string | undefined;
    if (request.headers.origin !== undefined) problem = 'requests with an Origin header are refused';
    else if (!isLoopbackHostHeader(request.headers.host))
      problem = 'the Host header must be a loopback address';
    if (problem === undefined) return undefined;
    const error = new ApiError('FORBIDDEN', `${problem} (the server runs with --insecure-no-auth)`);
    return reply.status(403).send(error.toBody());
  };
}
