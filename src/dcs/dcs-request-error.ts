import { CleanupError, type ErrorCode } from '../errors.js';
import type { AttemptOutcome } from './attempt-outcome.js';
import type { Action } from './classify.js';

const CODE_BY_ACTION: Readonly<Record<Action, ErrorCode>> = {
  auth_failed: 'DCS_AUTH_FAILED',
  throttled: 'DCS_THROTTLED',
  misconfigured: 'DCS_MISCONFIGURED',
  forbidden: 'DCS_FORBIDDEN',
  busy: 'DCS_BUSY',
  retry: 'DCS_UNAVAILABLE',
  rejected: 'DCS_REJECTED',
  // A list call on a vanished instance: permanent for this call.
  already_gone: 'DCS_REJECTED',
  // A 2xx only becomes an error when its body cannot be read.
  deleted: 'DCS_PROTOCOL',
};

/** The error code an outcome stands for: from its verdict, with 403 singled out as DCS_FORBIDDEN. */
export function errorCodeForOutcome(outcome: AttemptOutcome): ErrorCode {
  if (outcome.status === 403) return 'DCS_FORBIDDEN';
  return CODE_BY_ACTION[outcome.verdict.action];
}

/**
 * A DCS call that failed, for callers that throw (the list calls). `outcome` says exactly what
 * happened; the message names the status, error code and request id, never a header or secret.
 */
export class DcsRequestError extends CleanupError {
  readonly outcome: AttemptOutcome;

  /** `operation` is a short label such as `GET /v2/{project_id}/instances`; `code` overrides the derived one. */
  constructor(
    operation: string,
    outcome: AttemptOutcome,
    options: { code?: ErrorCode; problem?: string; cause?: unknown } = {},
  ) {
    super(options.code ?? errorCodeForOutcome(outcome), describe(operation, outcome, options.problem), {
      cause: options.cause,
      details: {
        status: outcome.status,
        errorCode: outcome.errorCode,
        requestId: outcome.requestId,
        action: outcome.verdict.action,
        reason: outcome.verdict.reason,
        networkError: outcome.networkError,
      },
    });
    this.name = 'DcsRequestError';
    this.outcome = outcome;
  }
}

function describe(operation: string, outcome: AttemptOutcome, problem: string | undefined): string {
  const what =
    outcome.status === undefined
      ? `network error (${outcome.networkError ?? 'other'})`
      : `HTTP ${outcome.status}${outcome.errorCode === undefined ? '' : ` ${outcome.errorCode}`}`;
  const requestId = outcome.requestId === undefined ? '' : `, request_id ${outcome.requestId}`;
  const detail = problem === undefined ? '' : `: ${problem}`;
  return `${operation} failed: ${what}${requestId}${detail}`;
}
