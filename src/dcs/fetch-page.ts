import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { AttemptOutcome } from './attempt-outcome.js';
import { DcsRequestError } from './dcs-request-error.js';
import { performSignedCall, type CallContext, type SignedCall } from './perform-signed-call.js';
import type { Page, PageResult } from './schemas.js';

/** A page of 1000 tasks is about 1 MB; a body far past that is not a DCS answer. */
export const MAX_LIST_BODY_BYTES = 32 * 1024 * 1024;

export type PageParser<T> = (text: string) => PageResult<T>;

/**
 * One page, retried on a transient answer (5xx, timeout, reset, 429, busy): a purge over thousands of
 * pages should not fail on one 503. Auth and configuration failures are not retried (lockout).
 */
export async function fetchPageWithRetries<T>(
  context: CallContext,
  call: SignedCall,
  parse: PageParser<T>,
  retries: number,
): Promise<Page<T>> {
  return pRetry(() => fetchPage(context, call, parse), {
    retries,
    minTimeout: 0,
    maxTimeout: 0,
    shouldRetry: async ({ error, attemptNumber }) => {
      const delayMs =
        error instanceof DcsRequestError ? pageRetryDelayMs(error.outcome, attemptNumber) : undefined;
      if (delayMs === undefined) return false;
      try {
        await sleep(delayMs, undefined, { signal: call.signal });
        return true;
      } catch {
        return false;
      }
    },
  });
}

/** How long to wait before asking for a page again, or undefined when retrying cannot help. */
export function pageRetryDelayMs(
  outcome: AttemptOutcome,
  attemptNumber: number,
  random = Math.random,
): number | undefined {
  switch (outcome.verdict.action) {
    case 'throttled':
      return Math.min(outcome.retryAfterMs ?? 2_000 + random() * 3_000, 60_000);
    case 'busy':
    case 'retry':
      if (outcome.networkError === 'aborted') return undefined;
      return Math.round(random() * Math.min(8_000, 250 * 2 ** attemptNumber));
    default:
      return undefined;
  }
}

/** One page of a list call; DcsRequestError for a failed call or an unreadable body. */
async function fetchPage<T>(context: CallContext, call: SignedCall, parse: PageParser<T>): Promise<Page<T>> {
  const { outcome, exchange } = await performSignedCall(context, call);
  const label = `${call.method} ${call.path}`;
  if (exchange.kind === 'error') throw new DcsRequestError(label, outcome, { cause: exchange.error });
  if (exchange.status >= 300) throw new DcsRequestError(label, outcome);
  const result = exchange.truncated
    ? { ok: false as const, problem: `body larger than ${MAX_LIST_BODY_BYTES} bytes` }
    : parse(exchange.body ?? '');
  if (!result.ok) {
    throw new DcsRequestError(label, outcome, { code: 'DCS_PROTOCOL', problem: result.problem });
  }
  return result.page;
}
