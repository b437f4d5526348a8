/**
 * One error type with a stable `code` for every failure this project reports on purpose.
 * Callers branch on `code`, never on the message. Messages never contain secrets.
 */

/** Every code this project throws, with what it means; docs/errors.md lists the same set (a test checks). */
export const ERROR_CODES = {
  INVALID_CONFIG: 'An environment variable or option is missing or malformed.',
  INVALID_ID:
    'A project, instance or task id is empty, too long or has characters other than letters, digits and "-".',
  INVALID_INPUT: 'A line of an input file, an HTTP body or a CLI argument is malformed.',
  INVALID_JOB: 'A queue payload does not match the job contract.',
  INVALID_PLAN: 'A purge plan file is malformed, too old or does not match this configuration.',
  CREDENTIALS_UNAVAILABLE:
    'Temporary credentials could not be obtained (metadata service, IAM or credentials file); retried.',
  DCS_AUTH_FAILED: 'DCS rejected the credentials (401): bad AK/SK, clock skew, expired token.',
  DCS_FORBIDDEN: 'DCS refused the call (403): account read-only or the IAM role lacks the permission.',
  DCS_MISCONFIGURED: 'The endpoint or path is wrong (404 APIGW.0101 / 111404001): a configuration error.',
  DCS_THROTTLED: 'DCS throttled the call (429); retry after the given delay.',
  DCS_BUSY: 'The instance is busy or in a state that forbids the change; retry later.',
  DCS_UNAVAILABLE: 'A transient failure: 5xx, timeout, connection reset; retry.',
  DCS_REJECTED: 'DCS rejected the call permanently (4xx); the job is dead-lettered.',
  DCS_PROTOCOL:
    'DCS answered something this client cannot read (a success body that is not the documented shape).',
  REDIS_UNAVAILABLE: 'Redis did not answer in time.',
  REDIS_EVICTION:
    'A Redis master may evict keys (maxmemory-policy is not noeviction), so queued jobs could vanish; set noeviction or REDIS_ALLOW_EVICTION=true.',
  QUEUE_PAUSED: 'The queue is paused by the circuit breaker (authentication or configuration failure).',
  PURGE_GUARD: 'A purge matched more tasks than its --max guard allows; nothing was enqueued.',
  NOT_FOUND: 'The requested job, dead letter or schedule does not exist.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CleanupErrorOptions {
  cause?: unknown;
  /** The field (or `field[index]`, or `line N: field`) the error is about, for input errors. */
  field?: string;
  /** Machine-readable extras safe to log (never secrets). */
  details?: Record<string, unknown>;
}

/** Base error: a stable `code`, an optional `field`, ES2022 `cause`. */
export class CleanupError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: CleanupErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CleanupError';
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, field: this.field, details: this.details };
  }
}

/** True when `err` is a CleanupError with the given code (or any code when none is given). */
export function isCleanupError(err: unknown, code?: ErrorCode): err is CleanupError {
  return err instanceof CleanupError && (code === undefined || err.code === code);
}
