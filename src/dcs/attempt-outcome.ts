import type { IncomingHttpHeaders } from 'node:http';
import { classifyAttempt, type NetworkErrorKind, type Verdict } from './classify.js';
import { parseErrorBody } from './error-body.js';
import { classifyNetworkError } from './network-error.js';
import { parseRetryAfter } from './retry-after.js';

/** One signed call to DCS: what it produced, and what that means (the verdict of `classifyAttempt`). */
export interface AttemptOutcome {
  verdict: Verdict;
  /** HTTP status; undefined for transport errors. */
  status?: number | undefined;
  errorCode?: string | undefined;
  /** The server's error_msg, capped at 512 characters. Server text: store it, do not trust it. */
  errorMsg?: string | undefined;
  /** `X-Request-Id` (or the body's `request_id`): what Huawei support asks for. */
  requestId?: string | undefined;
  /** From `Retry-After`, delta-seconds or HTTP-date relative to the client's clock. */
  retryAfterMs?: number | undefined;
  networkError?: NetworkErrorKind | undefined;
  durationMs: number;
}

/** The parts of an HTTP answer the outcome is built from. */
export interface ResponseParts {
  status: number;
  headers: IncomingHttpHeaders;
  /** The (possibly capped) body of a non-2xx answer; undefined for 2xx or when none was read. */
  errorBody: string | undefined;
}

/** Builds the outcome of an answered call; `now` resolves an HTTP-date Retry-After. */
export function buildResponseOutcome(response: ResponseParts, now: Date, durationMs: number): AttemptOutcome {
  const { status, headers } = response;
  const fields = response.errorBody === undefined ? undefined : parseErrorBody(response.errorBody);
  const retryAfter = headers['retry-after'];
  const retryAfterMs = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, now);
  const errorCode = fields?.errorCode;
  return {
    verdict: classifyAttempt({ status, errorCode }),
    status,
    errorCode,
    errorMsg: fields?.errorMsg,
    requestId: firstValue(headers['x-request-id']) ?? fields?.requestId,
    retryAfterMs,
    durationMs,
  };
}

/** Builds the outcome of a call that got no HTTP answer. */
export function buildNetworkOutcome(
  err: unknown,
  callerAborted: boolean,
  durationMs: number,
): AttemptOutcome {
  const networkError = classifyNetworkError(err, callerAborted);
  return { verdict: classifyAttempt({ networkError }), networkError, durationMs };
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === '' ? undefined : first;
}
