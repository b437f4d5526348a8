import type { NetworkErrorKind } from './classify.js';

/** undici's own codes (lib/core/errors.js) and the Node socket errors it passes through. */
const KIND_BY_CODE: ReadonlyMap<string, NetworkErrorKind> = new Map([
  ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
  ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'timeout'],
  ['ETIMEDOUT', 'timeout'],
  ['DCS_REQUEST_DEADLINE', 'timeout'],
  ['UND_ERR_SOCKET', 'reset'],
  ['ECONNRESET', 'reset'],
  ['EPIPE', 'reset'],
  ['ECONNREFUSED', 'refused'],
  ['ENOTFOUND', 'dns'],
  ['EAI_AGAIN', 'dns'],
  ['UND_ERR_ABORTED', 'aborted'],
  ['UND_ERR_ABORT', 'aborted'],
  ['ABORT_ERR', 'aborted'],
]);

/** Causes are followed this deep; undici and Node wrap at most once or twice. */
const MAX_DEPTH = 4;

/**
 * What kind of transport failure `err` is. `callerAborted` wins over everything: once the caller's
 * signal fired, whatever undici reports next is a consequence of that abort.
 */
export function classifyNetworkError(err: unknown, callerAborted = false): NetworkErrorKind {
  if (callerAborted) return 'aborted';
  return findKind(err, 0) ?? 'other';
}

function findKind(err: unknown, depth: number): NetworkErrorKind | undefined {
  if (typeof err !== 'object' || err === null || depth > MAX_DEPTH) return undefined;
  const { code, name, message, cause, errors } = err as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  const byCode = typeof code === 'string' ? KIND_BY_CODE.get(code) : undefined;
  if (byCode !== undefined) return byCode;
  // AbortSignal reasons (DOMException) carry a numeric code; their name is what identifies them.
  if (name === 'AbortError') return 'aborted';
  // A keep-alive socket closed by the server surfaces as a bare 'other side closed' in some paths.
  if (typeof message === 'string' && message.includes('other side closed')) return 'reset';
  const fromCause = findKind(cause, depth + 1);
  if (fromCause !== undefined) return fromCause;
  // Node's happy-eyeballs connect reports one AggregateError for all the addresses it tried.
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const kind = findKind(inner, depth + 1);
      if (kind !== undefined) return kind;
    }
  }
  return undefined;
}
