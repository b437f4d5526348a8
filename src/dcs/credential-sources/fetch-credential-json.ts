import { request } from 'undici';
import { CleanupError } from '../../errors.js';
import { Credentials } from '../../huawei/credentials.js';
import type { IssuedCredentials } from '../../huawei/credential-provider.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface CredentialRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Names the service in errors: "the ECS metadata service", "IAM". */
  service: string;
  timeoutMs?: number;
}

/**
 * Sends one request to a credential service and reads `{"credential": {access, secret, securitytoken,
 * expires_at}}` (the shape of both the ECS metadata service and IAM). CREDENTIALS_UNAVAILABLE for
 * anything else; the error names the service, the status and the URL, never the body (it may hold keys).
 */
export async function fetchCredentialJson(req: CredentialRequest): Promise<IssuedCredentials> {
  const timeoutMs = req.timeoutMs ?? 10_000;
  let status: number;
  let text: string;
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.statusCode;
    text = await readCapped(res.body);
  } catch (err) {
    throw failure(`${req.service} did not answer (${(err as Error).name})`, req, err);
  }
  if (status < 200 || status >= 300) throw failure(`${req.service} answered HTTP ${status}`, req);
  return parseCredentialBody(text, req);
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error('answer too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseCredentialBody(text: string, req: CredentialRequest): IssuedCredentials {
  let credential: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(text) as { credential?: unknown };
    if (typeof parsed.credential === 'object' && parsed.credential !== null) {
      credential = parsed.credential as Record<string, unknown>;
    }
  } catch {
    // reported below, without the body
  }
  const { access, secret, securitytoken: token, expires_at: expiresAt } = credential ?? {};
  const expiresAtMs = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (typeof access !== 'string' || typeof secret !== 'string' || access === '' || secret === '') {
    throw failure(`${req.service} answered without credential.access and credential.secret`, req);
  }
  if (token !== undefined && typeof token !== 'string') {
    throw failure(`${req.service} answered a credential.securitytoken that is not a string`, req);
  }
  if (Number.isNaN(expiresAtMs)) {
    throw failure(`${req.service} answered without a readable credential.expires_at`, req);
  }
  return { credentials: new Credentials(access, secret, token), expiresAtMs };
}

function failure(message: string, req: CredentialRequest, cause?: unknown): CleanupError {
  const url = new URL(req.url);
  return new CleanupError(
    'CREDENTIALS_UNAVAILABLE',
    `${message}: ${req.method} ${url.origin}${url.pathname}`,
    {
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
