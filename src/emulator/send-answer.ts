/**
 * Writing answers the way DCS and its gateway do: DCS errors as `{error_code, error_msg, error_ext_msg}`,
 * gateway errors (`APIGW.*`) as `{error_code, error_msg, request_id}`, and one non-JSON case: a 503 from
 * a load balancer in front of the gateway is an HTML page, as proxies answer in real life.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ScriptedAnswer } from './fault-injector.js';

export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
const HTML_503 =
  '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>';

/** Messages for the codes the emulator answers with; the code is what clients branch on. */
const MESSAGES: Readonly<Record<string, string>> = {
  '111400017': 'A background task of this instance is running. Try again later.',
  '111400061': 'Invalid instance ID.',
  '111400063': 'Invalid parameter.',
  '111400070': 'Invalid task ID.',
  '111403002': 'The account is read-only.',
  '111403003': 'The IAM user is not authorized to perform this operation.',
  'DCS.4026': 'The operation is not supported in the current instance state.',
  'DCS.4049': 'The instance is not running.',
  'DCS.4111': 'The instance is restarting.',
  'DCS.4113': 'The instance is being resized.',
  'CBC.99003651': 'Another order of this resource is being processed.',
  'DCS.4031': 'The instance does not exist.',
  'DCS.4133': 'The instance does not exist.',
  'DCS.4941': 'The instance does not exist.',
  'DCS.4942': 'The instance does not exist.',
  '111404022': 'The instance does not exist.',
  '111404023': 'The background task does not exist.',
  '111500000': 'Internal service error.',
  'APIGW.0101': 'The API does not exist or has not been published in the environment.',
  'APIGW.0202': 'Backend unavailable.',
  'APIGW.0203': 'Backend timeout.',
  'APIGW.0301': 'Incorrect IAM authentication information.',
  'APIGW.0308':
    'The throttling threshold has been reached: policy user over ratelimit, limit:200, time:1 second',
};

/** The code an error answer of `status` carries when none is given. */
const DEFAULT_CODES: Readonly<Record<number, string>> = {
  400: '111400063',
  401: 'APIGW.0301',
  403: '111403003',
  404: '111404023',
  429: 'APIGW.0308',
  500: '111500000',
  502: 'APIGW.0202',
  504: 'APIGW.0203',
};

/** 32 lower-case hex characters, unique per emulator: a random prefix and a counter, cheap per request. */
export function createRequestIdSource(): () => string {
  const prefix = randomBytes(8).toString('hex');
  let counter = 0;
  return () => prefix + (counter++).toString(16).padStart(16, '0');
}

/** A JSON answer with an explicit length (no chunked encoding, like the gateway). */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  res
    .writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) })
    .end(body);
}

/** A DCS or gateway error body for `code`, by its prefix. */
export function buildErrorBody(code: string, requestId: string, message?: string): string {
  const msg = message ?? MESSAGES[code] ?? 'Emulated error.';
  return code.startsWith('APIG')
    ? JSON.stringify({ error_code: code, error_msg: msg, request_id: requestId })
    : JSON.stringify({ error_code: code, error_msg: msg, error_ext_msg: null });
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  requestId: string,
  message?: string,
): void {
  sendJson(res, status, buildErrorBody(code, requestId, message));
}

/** Writes a scripted or injected answer (not `reset`/`hang`, which the server handles on the socket). */
export function sendAnswer(res: ServerResponse, answer: ScriptedAnswer, requestId: string): void {
  const status = answer.status ?? 200;
  const headers: Record<string, string> = {};
  if (answer.retryAfter !== undefined) headers['Retry-After'] = String(answer.retryAfter);
  const body =
    answer.noBody || status === 204 || status === 304 ? '' : buildAnswerBody(answer, status, requestId);
  if (body !== '') {
    headers['Content-Type'] =
      answer.contentType ?? (status === 503 && isDefaultBody(answer) ? 'text/html' : JSON_CONTENT_TYPE);
  }
  res.writeHead(status, headers).end(body);
}

function buildAnswerBody(answer: ScriptedAnswer, status: number, requestId: string): string {
  if (typeof answer.body === 'string') return answer.body;
  if (answer.body !== undefined) return JSON.stringify(answer.body);
  if (status >= 200 && status < 300) return '{"message":""}';
  if (answer.errorCode === undefined && status === 503) return HTML_503;
  return buildErrorBody(answer.errorCode ?? DEFAULT_CODES[status] ?? `EMULATOR.${status}`, requestId);
}

function isDefaultBody(answer: ScriptedAnswer): boolean {
  return answer.body === undefined && answer.errorCode === undefined;
}
