/** The metadata and IAM routes of the emulator (see credential-issuer.ts for the shapes). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { AuthGuard } from './auth-guard.js';
import type { CredentialIssuer } from './credential-issuer.js';
import { sendError, sendJson } from './send-answer.js';

export const METADATA_ROUTE = '/openstack/latest/securitykey';
export const SECURITY_TOKENS_ROUTE = '/v3.0/OS-CREDENTIAL/securitytokens';
const METADATA_LIFETIME_MS = 3_600_000;

const assumeRoleSchema = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.literal('assume_role')).length(1),
      assume_role: z
        .object({
          agency_name: z.string().min(1),
          domain_name: z.string().min(1).optional(),
          domain_id: z.string().min(1).optional(),
          duration_seconds: z.number().int().min(900).max(86_400).default(900),
        })
        .refine((r) => r.domain_name !== undefined || r.domain_id !== undefined, 'domain_name or domain_id'),
    }),
  }),
});

export interface CredentialRouteContext {
  issuer: CredentialIssuer;
  auth: AuthGuard;
  onAuthFailure: () => void;
}

/** True when the route is one of these two; answers it. */
export function answerCredentialRoute(
  ctx: CredentialRouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  parts: { path: string; rawQuery: string; requestId: string; body: Buffer | undefined },
): void {
  if (req.method === 'GET' && parts.path === METADATA_ROUTE) {
    sendJson(res, 200, JSON.stringify({ credential: ctx.issuer.issue(METADATA_LIFETIME_MS) }));
    return;
  }
  const auth = ctx.auth.check({
    method: req.method ?? '',
    path: parts.path,
    query: parts.rawQuery,
    headers: req.headers,
    body: parts.body,
  });
  if (!auth.ok) {
    ctx.onAuthFailure();
    sendError(
      res,
      401,
      'APIGW.0301',
      parts.requestId,
      `Incorrect IAM authentication information: ${auth.reason}`,
    );
    return;
  }
  let parsed: z.infer<typeof assumeRoleSchema> | undefined;
  try {
    const result = assumeRoleSchema.safeParse(JSON.parse(parts.body?.toString('utf8') ?? ''));
    parsed = result.success ? result.data : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) {
    sendError(res, 400, 'IAM.0008', parts.requestId, 'The request body is not a valid assume_role request.');
    return;
  }
  const durationMs = parsed.auth.identity.assume_role.duration_seconds * 1000;
  sendJson(res, 201, JSON.stringify({ credential: ctx.issuer.issue(durationMs) }));
}

/** Whether `method path` is a credential route. */
export function isCredentialRoute(method: string | undefined, path: string): boolean {
  return (
    (method === 'GET' && path === METADATA_ROUTE) || (method === 'POST' && path === SECURITY_TOKENS_ROUTE)
  );
}
