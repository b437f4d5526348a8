/**
 * Bull Board at /admin/queues, behind the API token (Bearer, or Basic with the token as password so
 * a browser can open it). Read-only unless the server was started with `--bull-board-writable`:
 * retrying, promoting or removing jobs by hand bypasses the dead-letter bookkeeping.
 */
import type { FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { buildAuthHook, type ApiAuth } from './api-auth.js';

export const BULL_BOARD_PATH = '/admin/queues';

export interface BullBoardDeps {
  auth: ApiAuth;
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
    scope.addHook('onRequest', buildAuthHook(deps.auth, { allowBasic: true }));
    void scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
    done();
  });
}
