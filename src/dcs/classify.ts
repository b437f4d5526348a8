/**
 * The one classifier: what a single DCS attempt means for the job. The DCS client, the in-process
 * retry loop and the BullMQ processor all ask this function and nothing else. The words it uses
 * (Verdict, Action, AttemptOutcome...) are defined once in docs/architecture.md, "Outcome vocabulary".
 *
 * 404 split: APIGW.0101 (API unknown at this gateway) and 111404001 (URL does not exist) mean our
 * endpoint or path is wrong, so `misconfigured`; any other 404 carrying a DCS error code (instance or
 * task not found) means the goal is met, so `already_gone`. A 404 without a readable error code (a
 * proxy's page), or with another gateway code (`APIGW.*`, `APIG.*`: the request never reached DCS),
 * proves nothing either way and is `rejected`, so an operator sees it in the dead letters.
 *
 * 403 split: the codes that say the whole credential lacks a permission (account read-only, the IAM
 * role lacks `dcs:instance:deleteBackgroundTask`) are `forbidden`: every job would fail alike, so the
 * queue pauses. Any other 403 is a refusal about one resource and is `rejected`.
 *
 * Huawei's Terraform provider retries the `DCS.4xxx` "instance busy" codes and treats the "instance
 * does not exist" ones as not found: so do we, whatever status carries them.
 */

export const ACTIONS = [
  'deleted',
  'already_gone',
  'retry',
  'busy',
  'throttled',
  'auth_failed',
  'misconfigured',
  'forbidden',
  'rejected',
] as const;
export type Action = (typeof ACTIONS)[number];

export type NetworkErrorKind = 'timeout' | 'reset' | 'refused' | 'dns' | 'aborted' | 'other';

/** What one attempt means for the job: its action, and a short machine-readable why. */
export interface Verdict {
  action: Action;
  /** E.g. `http_503`, `network_timeout`, `111400017`, `http_404_unrecognised`. */
  reason: string;
}

const MISCONFIGURED_404 = new Set(['APIGW.0101', '111404001']);
/** The instance or task does not exist, at any 4xx status. */
const GONE_CODES = new Set(['111400119', 'DCS.4031', 'DCS.4133', 'DCS.4941', 'DCS.4942']);
/** A 403 about the credential as a whole: account read-only, IAM role without the permission. */
const FORBIDDEN_CODES = new Set(['111403002', '111403003']);
/** API Gateway codes (`APIGW.0101`, `APIG.0308`), as opposed to DCS's own numeric codes. */
const GATEWAY_CODE = /^APIGW?\./;
const BUSY_CODES = new Set([
  '111400017',
  '111400026',
  '111400069',
  'DCS.4026',
  'DCS.4049',
  'DCS.4111',
  'DCS.4113',
  'CBC.99003651',
]);

/**
 * Maps the facts of one attempt (the fields of its AttemptOutcome: an HTTP status and error code, or,
 * without a status, the transport failure) to its verdict. Pure and total: never throws.
 */
export function classifyAttempt(result: {
  status?: number | undefined;
  errorCode?: string | undefined;
  networkError?: NetworkErrorKind | undefined;
}): Verdict {
  const { status } = result;
  if (status === undefined) return { action: 'retry', reason: `network_${result.networkError ?? 'other'}` };
  // An empty code is no code: it must not make a 404 look like a DCS "not found".
  const errorCode = result.errorCode === '' ? undefined : result.errorCode;
  if (status >= 200 && status < 300) return { action: 'deleted', reason: `http_${status}` };
  if (status === 401) return { action: 'auth_failed', reason: codeOr(errorCode, 'http_401') };
  if (status === 429) {
    return { action: 'throttled', reason: codeOr(errorCode, 'http_429') };
  }
  if (errorCode !== undefined && BUSY_CODES.has(errorCode)) return { action: 'busy', reason: errorCode };
  if (status === 404) {
    if (errorCode === undefined) return { action: 'rejected', reason: 'http_404_unrecognised' };
    if (MISCONFIGURED_404.has(errorCode)) return { action: 'misconfigured', reason: errorCode };
    // Only DCS itself can say a task or instance is gone; the gateway answering 404 says nothing about it.
    if (GATEWAY_CODE.test(errorCode)) return { action: 'rejected', reason: errorCode };
    return { action: 'already_gone', reason: errorCode };
  }
  if (status >= 400 && status < 500 && errorCode !== undefined && GONE_CODES.has(errorCode)) {
    return { action: 'already_gone', reason: errorCode };
  }
  if (status === 403 && errorCode !== undefined && FORBIDDEN_CODES.has(errorCode)) {
    return { action: 'forbidden', reason: errorCode };
  }
  if (status === 408 || status >= 500) {
    return { action: 'retry', reason: codeOr(errorCode, `http_${status}`) };
  }
  if (status >= 300 && status < 400) return { action: 'misconfigured', reason: `http_${status}_redirect` };
  return { action: 'rejected', reason: codeOr(errorCode, `http_${status}`) };
}

function codeOr(errorCode: string | undefined, fallback: string): string {
  return errorCode ?? fallback;
}
