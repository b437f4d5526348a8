import type { Command } from 'commander';
import type { Queue } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin } from '../app.js';
import { openAccountQueues } from '../queue/account-queues.js';
import { createCircuitBreaker } from '../queue/circuit-breaker.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export function registerResumeCommand(program: Command): void {
  program
    .command('resume')
    .description(
      'Resume a queue paused by the circuit breaker (after fixing credentials or the endpoint). Workers prove the credentials again before sending.',
    )
    .option('--account <name>', "resume this account's queue only (default: every account's)")
    .action(
      runCommand(async (flags: { account?: string }) => {
        const app = createApp(loadConfig(), { role: 'producer' });
        // Ping before any BullMQ object exists: a Queue on a dead connection prints its own errors.
        let queues: Map<string, Queue> | undefined;
        try {
          const accounts = app.accounts();
          if (flags.account !== undefined) accounts.get(flags.account, '--account');
          await pingRedis(app.connection);
          queues = openAccountQueues(accounts, app.connection, app.prefix);
          // Closing an open breaker announces `breaker.closed` (a log record, and the webhooks).
          const events = app.events();
          for (const [account, queue] of queues) {
            if (flags.account !== undefined && account !== flags.account) continue;
            // The breaker's own close: clears its state, resumes the queue and tells every worker at once.
            let announced: Promise<unknown> = Promise.resolve();
            const circuit = await createCircuitBreaker({
              connection: app.connection,
              prefix: app.prefix,
              queue,
              onTransition: (t, state) => {
                announced = events.publishEvent(`breaker.${t}`, { ...state, account, closed_by: 'resume' });
              },
            });
            await circuit.close();
            await announced;
            await circuit.stop();
            process.stdout.write(
              accounts.names.length === 1
                ? 'queue resumed\n'
                : `queue ${queue.name} (account ${account}) resumed\n`,
            );
          }
          return EXIT_CODES.ok;
        } finally {
          await settleWithin(Promise.all([...(queues?.values() ?? [])].map((q) => q.close())), CLOSE_WAIT_MS);
          await app.close();
        }
      }),
    );
}
