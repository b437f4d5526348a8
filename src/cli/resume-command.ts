import type { Command } from 'commander';
import type { Queue } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin } from '../app.js';
import { openQueue } from '../queue/open-queue.js';
import { createCircuitBreaker } from '../queue/circuit-breaker.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export function registerResumeCommand(program: Command): void {
  program
    .command('resume')
    .description(
      'Resume a queue paused by the circuit breaker (after fixing credentials or the endpoint). Workers prove the credentials again before sending.',
    )
    .action(
      runCommand(async () => {
        const app = createApp(loadConfig(), { role: 'producer' });
        // Ping before any BullMQ object exists: a Queue on a dead connection prints its own errors.
        let queue: Queue | undefined;
        try {
          await pingRedis(app.connection);
          queue = openQueue(app.connection, app.prefix);
          // The breaker's own close: clears its state, resumes the queue and tells every worker at once.
          // Closing an open breaker announces `breaker.closed` (a log record, and the webhooks).
          const events = app.events();
          let announced: Promise<unknown> = Promise.resolve();
          const circuit = await createCircuitBreaker({
            connection: app.connection,
            prefix: app.prefix,
            queue,
            onTransition: (t, state) => {
              announced = events.publishEvent(`breaker.${t}`, { ...state, closed_by: 'resume' });
            },
          });
          await circuit.close();
          await announced;
          await circuit.stop();
          process.stdout.write('queue resumed\n');
          return EXIT_CODES.ok;
        } finally {
          await settleWithin(queue?.close() ?? Promise.resolve(), CLOSE_WAIT_MS);
          await app.close();
        }
      }),
    );
}
