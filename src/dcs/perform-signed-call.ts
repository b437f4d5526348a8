import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { CredentialProvider } from '../huawei/credential-provider.js';
import type { Credentials } from '../huawei/credentials.js';
import { buildQueryString, signRequest, type QueryParams } from '../huawei/signer.js';
import type { Logger } from '../observability/logger.js';
import { SpanKind, SpanStatusCode, tracer, type Span } from '../observability/tracing.js';
import { buildNetworkOutcome, buildResponseOutcome, type AttemptOutcome } from './attempt-outcome.js';
import type { RequestDeadlines } from './request-deadlines.js';
import { sendRequest, type Exchange } from './send-request.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Sent as `user-agent` on every call. */
export const USER_AGENT = `dcs-cleanup/${version}`;

/** What a client shares across its calls. */
export interface CallContext {
  dispatcher: Dispatcher;
  /** `https://host[:port]` of the endpoint, and the endpoint's own path prefix ('' for none). */
  origin: string;
  basePath: string;
  credentials: CredentialProvider;
  now: () => Date;
  logger: Logger | undefined;
  maxErrorBodyBytes: number;
  maxSuccessBodyBytes: number;
  /** The overall deadline of each call. */
  deadlines: RequestDeadlines;
}

/** One project-scoped DCS call. */
export interface SignedCall {
  method: 'GET' | 'DELETE';
  /** Path below the endpoint, e.g. `/v2/{project_id}/instances`, ids already validated. */
  path: string;
  query?: QueryParams | undefined;
  projectId: string;
  signal: AbortSignal | undefined;
  /** Read a 2xx body (list calls) instead of discarding it. */
  keepSuccessBody: boolean;
  /** Logged with the call (`trace_id`), never sent. */
  traceId?: string | undefined;
}

/** The outcome of one call, and the raw exchange for callers that read a success body. */
export interface CallResult {
  outcome: AttemptOutcome;
  exchange: Exchange;
}

/**
 * Signs and sends one call, then classifies its answer. Never rejects for HTTP or transport
 * failures; rejects with CREDENTIALS_UNAVAILABLE when no usable credentials can be obtained.
 * Signed afresh each time: X-Sdk-Date must be within 15 minutes of the gateway's clock.
 */
export async function performSignedCall(context: CallContext, call: SignedCall): Promise<CallResult> {
  // From the cache, without waiting, unless the credentials expired (src/huawei/credential-provider.ts).
  const credentials = context.credentials.current() ?? (await context.credentials.fresh());
  const first = await sendSignedCall(context, call, credentials);
  if (first.outcome.status !== 401) return first;
  // Expired temporary credentials, or a rotated key: one retry with the new set, not the breaker.
  const renewed = await context.credentials.renewAfterRejection(credentials);
  return renewed === undefined ? first : sendSignedCall(context, call, renewed);
}

async function sendSignedCall(
  context: CallContext,
  call: SignedCall,
  credentials: Credentials,
): Promise<CallResult> {
  const path = context.basePath + call.path;
  // The wire query is built by the same function the signer uses, so both are byte-identical.
  const query = call.query === undefined ? '' : buildQueryString(call.query);
  const headers = {
    'content-type': 'application/json',
    'X-Project-Id': call.projectId,
    'user-agent': USER_AGENT,
  };
  const signed = signRequest(
    { method: call.method, url: context.origin + path, query: call.query, headers },
    credentials,
    context.now(),
  );
  const wirePath = query === '' ? path : `${path}?${query}`;
  // A client span (`DCS DELETE`) under the active one (the job's); the no-op one without an SDK.
  const span = tracer().startSpan(`DCS ${call.method}`, { kind: SpanKind.CLIENT });
  const started = performance.now();
  const exchange = await sendRequest(context.dispatcher, {
    method: call.method,
    path: wirePath,
    headers: signed.headers,
    signal: call.signal,
    keepSuccessBody: call.keepSuccessBody,
    maxErrorBodyBytes: context.maxErrorBodyBytes,
    maxSuccessBodyBytes: context.maxSuccessBodyBytes,
    deadlines: context.deadlines,
  });
  const durationMs = Math.round((performance.now() - started) * 100) / 100;
  const outcome = buildOutcome(context, exchange, durationMs, signed.authorization, credentials);
  if (span.isRecording()) endCallSpan(span, context.origin, call, outcome);
  if (context.logger?.isLevelEnabled('debug'))
    logCall(context.logger, call.method, wirePath, outcome, call.traceId);
  return { outcome, exchange };
}

function buildOutcome(
  context: CallContext,
  exchange: Exchange,
  durationMs: number,
  authorization: string,
  credentials: Credentials,
): AttemptOutcome {
  if (exchange.kind === 'error')
    return buildNetworkOutcome(exchange.error, exchange.callerAborted, durationMs);
  const errorBody = exchange.status >= 300 ? exchange.body : undefined;
  const outcome = buildResponseOutcome(
    { status: exchange.status, headers: exchange.headers, errorBody },
    context.now(),
    durationMs,
  );
  if (outcome.errorMsg !== undefined) {
    outcome.errorMsg = redactEchoes(outcome.errorMsg, authorization, credentials);
  }
  return outcome;
}

/** The call's span: method, server, DCS status, error code and request id; never a header or the query. */
function endCallSpan(span: Span, origin: string, call: SignedCall, outcome: AttemptOutcome): void {
  span.setAttributes({
    'http.request.method': call.method,
    'server.address': new URL(origin).hostname,
    'dcs_cleanup.project_id': call.projectId,
    'dcs_cleanup.action': outcome.verdict.action,
  });
  if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
  if (outcome.errorCode !== undefined) span.setAttribute('dcs.error_code', outcome.errorCode);
  if (outcome.requestId !== undefined) span.setAttribute('dcs.request_id', outcome.requestId);
  if (outcome.networkError !== undefined) {
    span.setAttribute('error.type', outcome.networkError);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.networkError });
  } else if (
    outcome.status !== undefined &&
    outcome.status >= 400 &&
    outcome.verdict.action !== 'already_gone'
  ) {
    span.setAttribute('error.type', String(outcome.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function logCall(
  logger: Logger,
  method: string,
  path: string,
  outcome: AttemptOutcome,
  traceId: string | undefined,
): void {
  logger.debug(
    {
      ...(traceId === undefined ? {} : { trace_id: traceId }),
      method,
      path,
      status: outcome.status,
      error_code: outcome.errorCode,
      request_id: outcome.requestId,
      duration_ms: outcome.durationMs,
      network_error: outcome.networkError,
    },
    'dcs request',
  );
}

/**
 * A gateway that echoes the request would echo its credentials: never keep the security token or
 * the signature (the Authorization header is only replayable by its signature).
 */
function redactEchoes(message: string, authorization: string, credentials: Credentials): string {
  const marker = 'Signature=';
  const signature = authorization.slice(authorization.lastIndexOf(marker) + marker.length);
  let out = message;
  for (const secret of [credentials.securityToken(), signature]) {
    if (secret !== undefined && secret !== '' && out.includes(secret))
      out = out.split(secret).join('[redacted]');
  }
  return out;
}
