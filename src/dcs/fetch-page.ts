import { DcsRequestError } from './dcs-request-error.js';
import { performSignedCall, type CallContext, type SignedCall } from './perform-signed-call.js';
import { pageRetryDelayMs, retryInProcess, type RetryTiming } from './retry-loop.js';
import type { Page, PageResult } from './schemas.js';

/** A page of 1000 tasks is about 1 MB; a body far past that is not a DCS answer. */
export const MAX_LIST_BODY_BYTES = 32 * 1024 * 1024;

export type PageParser<T> = (text: string) => PageResult<T>;

type Fetched<T> = { page: Page<T> } | { error: unknown };

/**
 * One page, retried on a transient answer (5xx, timeout, reset, 429, busy) in the one retry loop, by
 * the policy's timing: a purge over thousands of pages should not fail on one 503. Auth and
 * configuration failures are not retried (lockout).
 */
export async function fetchPageWithRetries<T>(
  context: CallContext,
  call: SignedCall,
  parse: PageParser<T>,
  retry: { retries: number; timing: RetryTiming },
): Promise<Page<T>> {
  const fetched = await retryInProcess<Fetched<T>>(
    () =>
      fetchPage(context, call, parse).then(
        (page) => ({ page }),
        (error: unknown) => ({ error }),
      ),
    {
      retries: retry.retries,
      delayMs: (result, n) =>
        'error' in result && result.error instanceof DcsRequestError
          ? pageRetryDelayMs(retry.timing, result.error.outcome, n)
          : undefined,
    },
    call.signal,
  );
  if ('error' in fetched) throw fetched.error;
  return fetched.page;
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
