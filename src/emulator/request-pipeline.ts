/**
 * One request through the emulator, in the gateway's order:
 *   route match (404 APIGW.0101) -> signature and lockout (401 APIGW.0301) -> sliding-window rate
 *   limit per AK and API (429 APIGW.0308, rate-limiter.ts) -> scripted answer for the task (DELETE only) -> injected fault and latency
 *   (faulty routes only) -> the DCS answer from the inventory.
 * The metadata and IAM credential routes (credential-routes.ts) skip the rate limit and the faults.
 * Requests under /__emulator/ skip all of it and go to the inspection API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerDcsRoute, matchDcsRoute, type MatchedRoute } from './dcs-routes.js';
import type { AuthGuard } from './auth-guard.js';
import type { CredentialIssuer } from './credential-issuer.js';
import { answerCredentialRoute, isCredentialRoute } from './credential-routes.js';
import type { EmulatorState } from './emulator-state.js';
import type { FaultInjector, ScriptedAnswer } from './fault-injector.js';
import type { RateLimiter } from './rate-limiter.js';
import { sendAnswer, sendError, sendJson } from './send-answer.js';
import type { AnswerStatus, StatsRecorder } from './stats-recorder.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** One record per answered request, for the CLI's debug log. */
export interface RequestLogEntry {
  requestId: string;
  method: string;
  path: string;
  route: string;
  status: AnswerStatus;
  durationMs: number;
  fault?: string;
}

export interface PipelineContext {
  /** Replaced by a reset with state, hence read on every request. */
  state: EmulatorState;
  auth: AuthGuard;
  /** Temporary credentials for the metadata and IAM routes. */
  issuer: CredentialIssuer;
  limiter: RateLimiter;
  faults: FaultInjector;
  stats: StatsRecorder;
  nextRequestId: () => string;
  deleteSuccessStatus: 200 | 204;
  /** Latency timers still running, cleared on close. */
  timers: Set<NodeJS.Timeout>;
  onRequest?: ((entry: RequestLogEntry) => void) | undefined;
}

export type InspectionHandler = (
  method: string,
  path: string,
  query: URLSearchParams,
  body: Buffer | undefined,
  res: ServerResponse,
) => void;

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  path: string;
  rawQuery: string;
  startedMs: number;
}

/** The server's request listener. */
export function createRequestPipeline(
  ctx: PipelineContext,
  inspect: InspectionHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  const finish = (x: Exchange, route: string, status: AnswerStatus, fault?: string): void => {
    ctx.stats.recordRequest(route, status);
    if (ctx.onRequest === undefined) return;
    const durationMs = Math.round(performance.now() - x.startedMs);
    ctx.onRequest({
      requestId: x.requestId,
      method: x.req.method ?? '',
      path: x.path,
      route,
      status,
      durationMs,
      fault,
    });
  };

  const answer = (
    x: Exchange,
    match: MatchedRoute,
    injected: ScriptedAnswer | undefined,
    fault?: string,
  ): void => {
    if (injected === undefined) {
      const result = answerDcsRoute(ctx.state, match, new URLSearchParams(x.rawQuery), ctx);
      if (result.deleted) ctx.stats.recordDeletion();
      if (result.errorCode !== undefined) sendError(x.res, result.status, result.errorCode, x.requestId);
      else if (result.status === 204) x.res.writeHead(204).end();
      else sendJson(x.res, result.status, result.body ?? '');
      finish(x, match.route, result.status, fault);
      return;
    }
    const status = injected.status ?? 200;
    const transport = injected.reset === true || injected.hang === true;
    const deletes = injected.deletes ?? (!transport && status >= 200 && status < 300);
    if (deletes && match.taskId !== undefined && ctx.state.deleteTask(match.taskId)) {
      ctx.stats.recordDeletion();
    }
    if (injected.reset) {
      x.req.socket.destroy();
      return finish(x, match.route, 'reset', fault);
    }
    if (injected.hang) return finish(x, match.route, 'hang', fault);
    sendAnswer(x.res, injected, x.requestId);
    finish(x, match.route, status, fault);
  };

  const handleMatched = (x: Exchange, match: MatchedRoute, body: Buffer | undefined): void => {
    const auth = ctx.auth.check({
      method: x.req.method ?? '',
      path: x.path,
      query: x.rawQuery,
      headers: x.req.headers,
      body,
    });
    if (!auth.ok) {
      ctx.stats.recordAuthFailure(auth.accessKeyId);
      const message = `Incorrect IAM authentication information: ${auth.reason}`;
      sendError(x.res, 401, 'APIGW.0301', x.requestId, message);
      return finish(x, match.route, 401);
    }
    if (!ctx.limiter.take(auth.accessKeyId, match.route)) {
      ctx.stats.recordThrottled();
      sendError(x.res, 429, 'APIGW.0308', x.requestId, ctx.limiter.refusalMessage(auth.accessKeyId));
      return finish(x, match.route, 429);
    }
    const scripted = match.taskId === undefined ? undefined : ctx.faults.takeScripted(match.taskId);
    if (scripted !== undefined) {
      ctx.stats.recordFault('scripted');
      return answer(x, match, scripted, 'scripted');
    }
    if (!ctx.faults.appliesTo(match.route)) return answer(x, match, undefined);
    const draw = ctx.faults.draw();
    const fault = draw.kind === 'none' ? undefined : draw.kind;
    if (fault !== undefined) ctx.stats.recordFault(fault);
    if (draw.delayMs <= 0) return answer(x, match, draw.answer, fault);
    const timer = setTimeout(() => {
      ctx.timers.delete(timer);
      if (!x.res.destroyed) answer(x, match, draw.answer, fault);
    }, draw.delayMs);
    ctx.timers.add(timer);
  };

  return (req, res) => {
    const requestId = ctx.nextRequestId();
    res.setHeader('X-Request-Id', requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const x: Exchange = {
      req,
      res,
      requestId,
      path,
      rawQuery,
      startedMs: ctx.onRequest ? performance.now() : 0,
    };
    if (path.startsWith('/__emulator/')) {
      readBody(x, (body) => inspect(req.method ?? '', path, new URLSearchParams(rawQuery), body, res));
      return;
    }
    if (isCredentialRoute(req.method, path)) {
      const routeCtx = {
        issuer: ctx.issuer,
        auth: ctx.auth,
        onAuthFailure: () => ctx.stats.recordAuthFailure(),
      };
      readBody(x, (body) => answerCredentialRoute(routeCtx, req, res, { path, rawQuery, requestId, body }));
      return;
    }
    const match = matchDcsRoute(req.method, path);
    if (match === undefined) {
      sendError(res, 404, 'APIGW.0101', requestId);
      return finish(x, 'unknown', 404);
    }
    if (match.taskId !== undefined) ctx.stats.recordDeleteRequest(match.taskId);
    readBody(x, (body) => handleMatched(x, match, body));
  };
}

/** Calls `then` with the body (undefined when there is none: the usual GET and DELETE, no waiting). */
function readBody(x: Exchange, then: (body: Buffer | undefined) => void): void {
  const { req } = x;
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
    then(undefined);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES) sendError(x.res, 413, 'APIGW.0201', x.requestId, 'Request entity too large.');
    else then(Buffer.concat(chunks));
  });
}
