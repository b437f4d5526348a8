import type { Command } from 'commander';
import type { Queue } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin } from '../app.js';
import { openQueue } from '../queue/open-queue.js';
import { getQueueStatus } from '../queue/status.js';
import { getWebhookStatus } from '../events/webhook-status.js';
import { toTerminalSafe, toTerminalText } from './terminal-text.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show job counts by state, the dead-letter count, and whether the queue is paused and why.')
    .option('--json', 'print one JSON object')
    .action(
      runCommand(async (flags: { json?: boolean }) => {
        const app = createApp(loadConfig(), { role: 'producer' });
        // Ping before any BullMQ object exists: a Queue on a dead connection prints its own errors.
        let queue: Queue | undefined;
        try {
          await pingRedis(app.connection);
          queue = openQueue(app.connection, app.prefix);
          const s = {
            ...(await getQueueStatus(queue, app.deadLetters(), app.connection, app.prefix)),
            webhooks: await getWebhookStatus(app.connection, app.prefix),
          };
          const w = s.webhooks;
          if (flags.json) {
            // The breaker's state holds what DCS answered: it must not drive the terminal.
            process.stdout.write(`${toTerminalText(JSON.stringify(toTerminalSafe(s)))}\n`);
          } else {
            const lines = [
              `waiting ${s.waiting}, active ${s.active}, delayed ${s.delayed}, completed ${s.completed}, failed ${s.failed}, dead letters ${s.dead_letters}`,
              s.circuit.open
                ? `PAUSED by the circuit breaker since ${s.circuit.opened_at}: ${s.circuit.action} (${s.circuit.error_code ?? s.circuit.reason}, request ${s.circuit.request_id ?? '-'}); resume with \`dcs-cleanup resume\``
                : s.paused
                  ? 'paused (by hand)'
                  : 'running',
              `webhooks: pending ${w.pending}, retrying ${w.retrying}, given up ${w.given_up}, delivered ${w.delivered}` +
                (w.last_failure
                  ? `; last failure ${w.last_failure.at} (${w.last_failure.event_type}): ${w.last_failure.error}`
                  : ''),
            ];
            process.stdout.write(`${toTerminalText(lines.join('\n'))}\n`);
          }
          return EXIT_CODES.ok;
        } finally {
          await settleWithin(queue?.close() ?? Promise.resolve(), CLOSE_WAIT_MS);
          await app.close();
        }
      }),
    );
}
