/**
 * The bounds of `POST /v1/purges`, whose listing runs inside the request: one listing at a time per
 * process (a second one is answered 429 at once), and a listing stops, its in-flight list call
 * aborted, when the client goes away or after an overall deadline. The CLI has none of these
 * bounds: it is the tool for a purge too large for a request.
 */
import type { FastifyReply } from 'fastify';
import { ApiError } from './api-error.js';

/** What the route needs to know about its bounds (API_PURGE_DEADLINE_MS, API_PURGE_PLAN_LIMIT). */
export interface PurgeLimits {
  /** The longest a purge request may list before it is answered 504 PURGE_TIMEOUT. */
  deadlineMs: number;
  /** The most tasks a dry run's answer lists; the counts always cover every task. */
  planLimit: number;
}

export const DEFAULT_PURGE_LIMITS: PurgeLimits = { deadlineMs: 120_000, planLimit: 1_000 };

export interface PurgeGate {
  /**
   * Runs `work` with a signal that fires when the client goes away or after the deadline; 429
   * PURGE_BUSY while another purge runs, 504 PURGE_TIMEOUT when the deadline stopped it. When the
   * client went away the reply is dropped (nobody reads it), `onClientGone` is told and the result
   * is undefined.
   */
  run<T>(reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T | undefined>;
  /** True while a purge runs (for tests and logs). */
  readonly busy: boolean;
}

/** A gate for one process's purge route. */
export function createPurgeGate(deadlineMs: number, onClientGone: () => void): PurgeGate {
  let busy = false;
  return {
    get busy() {
      return busy;
    },
    async run(reply, work) {
      if (busy) {
        throw new ApiError(
          'PURGE_BUSY',
          'another purge is listing on this server: try again when it ends (or use the CLI `dcs-cleanup purge`)',
        );
      }
      busy = true;
      const clientGone = new AbortController();
      // 'close' also fires after a completed answer; only a close before the end is a client gone.
      const onClose = (): void => {
        if (!reply.raw.writableFinished) clientGone.abort(new Error('the client closed the connection'));
      };
      reply.raw.once('close', onClose);
      const deadline = AbortSignal.timeout(deadlineMs);
      try {
        return await work(AbortSignal.any([clientGone.signal, deadline]));
      } catch (err) {
        if (clientGone.signal.aborted) {
          onClientGone();
          reply.hijack();
          return undefined;
        }
        if (deadline.aborted && !clientGone.signal.aborted) {
          throw new ApiError(
            'PURGE_TIMEOUT',
            `the listing did not end within ${deadlineMs} ms (API_PURGE_DEADLINE_MS): narrow the scope, or use the CLI \`dcs-cleanup purge\``,
          );
        }
        throw err;
      } finally {
        reply.raw.off('close', onClose);
        busy = false;
      }
    },
  };
}
