import type { Command } from 'commander';
import type { Queue } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin } from '../app.js';
import { openAccountQueues } from '../queue/account-queues.js';
import { getQueueStatus, type QueueStatus } from '../queue/status.js';
import { getWebhookStatus } from '../events/webhook-status.js';
import { toTerminalSafe, toTerminalText } from './terminal-text.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "Show job counts by state, the dead-letter count, and whether each account's queue is paused and why.",
    )
    .option(
      '--json',
      "print one JSON object (the default account's figures, and `accounts`: every account's)",
    )
    .action(
      runCommand(async (flags: { json?: boolean }) => {
        const app = createApp(loadConfig(), { role: 'producer' });
        // Ping before any BullMQ object exists: a Queue on a dead connection prints its own errors.
        let queues: Map<string, Queue> | undefined;
        try {
          await pingRedis(app.connection);
          const accounts = app.accounts();
          queues = openAccountQueues(accounts, app.connection, app.prefix);
          const all: (QueueStatus & { account: string; queue: string })[] = [];
          for (const [account, queue] of queues) {
            const s = await getQueueStatus(queue, app.deadLetters(), app.connection, app.prefix, account);
            all.push({ account, queue: queue.name, ...s });
          }
          const main = all.find((s) => s.account === accounts.defaultName)!;
          const webhooks = await getWebhookStatus(app.connection, app.prefix);
          if (flags.json) {
            const { account: _a, queue: _q, ...figures } = main;
            const out = { ...figures, accounts: all, webhooks };
            // The breaker's state holds what DCS answered: it must not drive the terminal.
            process.stdout.write(`${toTerminalText(JSON.stringify(toTerminalSafe(out)))}\n`);
          } else {
            const lines =
              all.length === 1
                ? describe(main)
                : all.flatMap((s) => [
                    `account ${s.account} (queue ${s.queue}):`,
                    ...describe(s).map((l) => `  ${l}`),
                  ]);
            lines.push(
              ...all.flatMap((s) =>
                Object.entries(s.rate).map(([account, r]) =>
                  r === null
                    ? `rate (${account}): no limiter state (no worker has limited yet, or the limit is off)`
                    : `rate (${account}): ${r.per_second}/s ${r.mode}${r.mode === 'auto' ? `, ${r.cuts} cuts by 429${r.last_cut_at ? `, last ${r.last_cut_at}` : ''}` : ''}`,
                ),
              ),
            );
            const w = webhooks;
            lines.push(
              `webhooks: pending ${w.pending}, retrying ${w.retrying}, given up ${w.given_up}, delivered ${w.delivered}` +
                (w.last_failure
                  ? `; last failure ${w.last_failure.at} (${w.last_failure.event_type}): ${w.last_failure.error}`
                  : ''),
            );
            process.stdout.write(`${toTerminalText(lines.join('\n'))}\n`);
          }
          return EXIT_CODES.ok;
        } finally {
          await settleWithin(Promise.all([...(queues?.values() ?? [])].map((q) => q.close())), CLOSE_WAIT_MS);
          await app.close();
        }
      }),
    );
}

function describe(s: QueueStatus & { account: string; queue: string }): string[] {
  const resume =
    s.queue === 'dcs-cleanup' ? 'dcs-cleanup resume' : `dcs-cleanup resume --account ${s.account}`;
  return [
    `waiting ${s.waiting}, active ${s.active}, delayed ${s.delayed}, completed ${s.completed}, failed ${s.failed}, dead letters ${s.dead_letters}`,
    s.circuit.open
      ? `PAUSED by the circuit breaker since ${s.circuit.opened_at}: ${s.circuit.action} (${s.circuit.error_code ?? s.circuit.reason}, request ${s.circuit.request_id ?? '-'}); resume with \`${resume}\``
      : s.paused
        ? 'paused (by hand)'
        : 'running',
  ];
}
