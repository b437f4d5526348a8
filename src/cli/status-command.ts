import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin } from '../app.js';
import { QUEUE_NAME } from '../queue/job-contract.js';
import { getQueueStatus } from '../queue/status.js';
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
          queue = new Queue(QUEUE_NAME, { connection: app.connection, prefix: app.prefix });
          const s = await getQueueStatus(queue, app.deadLetters(), app.connection, app.prefix);
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
              ...Object.entries(s.rate).map(([account, r]) =>
                r === null
                  ? `rate (${account}): no limiter state (no worker has limited yet, or the limit is off)`
                  : `rate (${account}): ${r.per_second}/s ${r.mode}${r.mode === 'auto' ? `, ${r.cuts} cuts by 429${r.last_cut_at ? `, last ${r.last_cut_at}` : ''}` : ''}`,
              ),
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
