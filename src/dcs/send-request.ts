import type { IncomingHttpHeaders } from 'node:http';
import { errors, type Dispatcher } from 'undici';
import type { Expirable, RequestDeadlines } from './request-deadlines.js';

/** What to send and how much of the answer to read. */
export interface SendOptions {
  method: 'GET' | 'DELETE';
  /** Path and query exactly as signed. */
  path: string;
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Read the body of a 2xx answer (list calls). Otherwise a 2xx body is discarded unread. */
  keepSuccessBody: boolean;
  /** Most bytes read of a non-2xx body, or of a discarded 2xx body, before the connection is dropped. */
  maxErrorBodyBytes: number;
  /** Most bytes read of a kept 2xx body; more makes the answer `truncated`. */
  maxSuccessBodyBytes: number;
  /** Ends the request, however far it got, once it outlives the overall deadline. */
  deadlines?: RequestDeadlines | undefined;
}

/** An HTTP answer, or the transport error that took its place. Never a rejected promise. */
export type Exchange =
  | {
      kind: 'response';
      status: number;
      headers: IncomingHttpHeaders;
      /** The kept body (error bodies always, success bodies when asked), capped. */
      body: string | undefined;
      /** The body was longer than its cap; `body` holds its first bytes. */
      truncated: boolean;
    }
  | { kind: 'error'; error: unknown; callerAborted: boolean };

/** Dispatches one request on `dispatcher` and resolves with its answer or its transport error. */
export function sendRequest(dispatcher: Dispatcher, options: SendOptions): Promise<Exchange> {
  return new Promise((resolve) => {
    const handler = new ExchangeHandler(resolve, options);
    if (options.signal?.aborted) {
      handler.handleEvent();
      return;
    }
    try {
      dispatcher.dispatch({ method: options.method, path: options.path, headers: options.headers }, handler);
    } catch (error) {
      handler.onResponseError(undefined, error as Error);
    }
  });
}

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});

/** Our own abort reason when a body passes its cap: the connection is dropped, not drained. */
class BodyLimitReached extends Error {
  override name = 'BodyLimitReached';
}

/**
 * undici dispatch handler that resolves once. A class rather than an object of closures: on the hot
 * path its methods live on the prototype, and it doubles as the abort listener (`handleEvent`), so
 * one request allocates one handler and nothing else (no stream, no listener closure).
 */
class ExchangeHandler implements Dispatcher.DispatchHandler, Expirable {
  readonly #resolve: (exchange: Exchange) => void;
  readonly #options: SendOptions;
  #controller: Dispatcher.DispatchController | undefined;
  #settled = false;
  #status = 0;
  #headers = NO_HEADERS;
  #keep = false;
  #limit = 0;
  #bytes = 0;
  #chunks: Buffer[] | undefined;

  constructor(resolve: (exchange: Exchange) => void, options: SendOptions) {
    this.#resolve = resolve;
    this.#options = options;
    if (options.signal !== undefined && !options.signal.aborted) {
      options.signal.addEventListener('abort', this, { once: true });
    }
    options.deadlines?.track(this);
  }

  /** The overall deadline passed: answer now with a timeout, and drop the connection. */
  expire(error: Error): void {
    if (this.#settled) return;
    this.#settle({ kind: 'error', error, callerAborted: false });
    this.#controller?.abort(error);
  }

  /** The caller's signal fired: answer now, even if the request is still queued in the pool. */
  handleEvent(): void {
    if (this.#settled) return;
    this.#settle({ kind: 'error', error: this.#options.signal?.reason, callerAborted: true });
    this.#controller?.abort(new errors.RequestAbortedError());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Aborted (or past its deadline) while waiting for a connection: do not send it at all.
    if (this.#settled) controller.abort(new errors.RequestAbortedError());
    else this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (status < 200) return; // 1xx interim answers carry nothing for us
    this.#status = status;
    this.#headers = headers;
    const success = status < 300;
    this.#keep = !success || this.#options.keepSuccessBody;
    this.#limit = success && this.#keep ? this.#options.maxSuccessBodyBytes : this.#options.maxErrorBodyBytes;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    const room = this.#limit - this.#bytes;
    this.#bytes += chunk.length;
    if (this.#keep) (this.#chunks ??= []).push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    if (this.#bytes > this.#limit) {
      // Reading the rest would cost more than a new connection: settle with what we have and drop it.
      this.#settleResponse(true);
      controller.abort(new BodyLimitReached());
    }
  }

  onResponseEnd(): void {
    this.#settleResponse(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#settled) return;
    this.#settle({ kind: 'error', error, callerAborted: this.#options.signal?.aborted === true });
  }

  #settleResponse(truncated: boolean): void {
    if (this.#settled) return;
    this.#settle({
      kind: 'response',
      status: this.#status,
      headers: this.#headers,
      body: this.#chunks === undefined ? (this.#keep ? '' : undefined) : joinChunks(this.#chunks),
      truncated,
    });
  }

  #settle(exchange: Exchange): void {
    this.#settled = true;
    this.#options.signal?.removeEventListener('abort', this);
    this.#options.deadlines?.untrack(this);
    this.#chunks = undefined;
    this.#resolve(exchange);
  }
}

function joinChunks(chunks: Buffer[]): string {
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
}
