/**
 * The overall deadline of every DCS call. undici's timeouts are per phase (connect, headers) and per
 * chunk (body): a server that trickles one byte a second never trips them and holds a worker slot
 * for ever. One sweep per client, not one timer per request: the requests in flight sit in a Map in
 * the order they started, and since they all have the same deadline, the sweep stops at the first
 * one still in time. Nothing is allocated per request, and no timer runs while nothing is in flight.
 */
import { performance } from 'node:perf_hooks';

/** What the sweep ends: a request that outlived its deadline. */
export interface Expirable {
  expire(error: Error): void;
}

/** The reason a request was ended; the network-error classifier reads its code as a timeout. */
export class RequestDeadlineError extends Error {
  readonly code = 'DCS_REQUEST_DEADLINE';
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'RequestDeadlineError';
  }
}

export class RequestDeadlines {
  readonly timeoutMs: number;
  readonly #inFlight = new Map<Expirable, number>();
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    // Late by at most a tenth of the deadline (and never sweeping more than 20 times a second).
    this.#sweepMs = Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 10)));
  }

  track(request: Expirable): void {
    this.#inFlight.set(request, performance.now() + this.timeoutMs);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
      this.#timer.unref();
    }
  }

  untrack(request: Expirable): void {
    this.#inFlight.delete(request);
  }

  #sweep(): void {
    const now = performance.now();
    for (const [request, deadline] of this.#inFlight) {
      if (deadline > now) break;
      this.#inFlight.delete(request);
      request.expire(new RequestDeadlineError(this.timeoutMs));
    }
    if (this.#inFlight.size === 0) this.close();
  }

  /** Stops the sweep (it starts again with the next request). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
