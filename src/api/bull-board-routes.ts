/**
 * Bull Board at /admin/queues, behind an API token with the `admin` scope (Bearer, or Basic with the token as password so
 * a browser can open it). Read-only unless the server was started with `--bull-board-writable`:
 * retrying, promoting or removing jobs by hand bypasses the dead-letter bookkeeping. Off unless asked
 * for (`serve --bull-board`, CLEANUP_BULL_BOARD). Every answer forbids framing (clickjacking),
 * content sniffing, and any script, style or connection from another origin.
 */
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { buildAuthHook, type ApiAuth } from './api-auth.js';
import type { TokenStore } from './token-file.js';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * The board's pages load their scripts, styles and data from this server only; inline styles are
 * its loading screen's. Its web font link (fonts.googleapis.com) is blocked on purpose: the UI falls
 * back to a local font rather than telling a third party who opens it.
 */
export const BULL_BOARD_SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
} as const;

export interface BullBoardDeps {
  auth: ApiAuth;
  /** The scoped tokens: only those with the `admin` scope open the board. */
  tokens?: TokenStore | undefined;
  /** The deletion queue and the dead-letter queue. */
  queues: Queue[];
  writable: boolean;
}

/** Registers the board in its own scope, so its error handler and static files stay there. */
export function registerBullBoard(app: FastifyInstance, deps: BullBoardDeps): void {
  const serverAdapter = new FastifyAdapter().setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: !deps.writable })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'dcs-cleanup' } },
  });
  void app.register((scope, _opts, done) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.headers(BULL_BOARD_SECURITY_HEADERS);
      return payload;
    });
    scope.addHook(
      'onRequest',
      buildAuthHook(deps.auth, {
        allowBasic: true,
        scope: 'admin',
        ...(deps.tokens ? { tokens: deps.tokens } : {}),
      }),
    );
    void scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
    done();
  });
}
