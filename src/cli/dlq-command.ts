import type { Command } from 'commander';
import { printSafe, withProducerApp } from './producer-app.js';
import { notFound } from '../queue/dead-letters.js';
import { CleanupError } from '../errors.js';
import { parseDuration } from '../purge/duration.js';
import { EXIT_CODES, runCommand } from './run-command.js';
import { parseIntOption } from './options.js';

export function registerDlqCommand(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Inspect, replay and purge the dead letters (jobs that could not be completed).');

  dlq
    .command('list')
    .description('List dead letters, oldest first.')
    .option('--json', 'print a JSON array of full records')
    .option(
      '--reason <reason>',
      'only this reason (rejected, retries_exhausted, invalid_job, requeue_limit, stalled)',
    )
    .option('--error-code <code>', 'only this DCS error_code')
    .option('--limit <n>', 'at most this many', parseIntOption('--limit', 1, 1_000_000))
    .action(
      runCommand((flags: { json?: boolean; reason?: string; errorCode?: string; limit?: number }) =>
        withProducerApp(async (app) => {
          const filter = {
            ...(flags.reason ? { reason: flags.reason } : {}),
            ...(flags.errorCode ? { errorCode: flags.errorCode } : {}),
          };
          const entries = await app.deadLetters().list(filter, flags.limit);
          if (flags.json) printSafe(entries);
          else {
            for (const e of entries) {
              const d = (e.job_data ?? {}) as Record<string, unknown>;
              printSafe(
                `${e.id}  ${e.reason}  http=${e.http_status ?? '-'} code=${e.error_code ?? '-'} request=${e.request_id ?? '-'} task=${typeof d.task_id === 'string' ? d.task_id : '?'} at=${e.dead_lettered_at}`,
              );
            }
            printSafe(`${entries.length} dead letter(s)`);
          }
          return EXIT_CODES.ok;
        }),
      ),
    );

  dlq
    .command('show <id>')
    .description('Show one dead letter with its attempt history.')
    .action(
      runCommand((id: string) =>
        withProducerApp(async (app) => {
          const entry = await app.deadLetters().get(id);
          if (!entry) throw notFound(id);
          printSafe(entry);
          return EXIT_CODES.ok;
        }),
      ),
    );

  dlq
    .command('replay [ids...]')
    .description(
      'Enqueue dead letters again as fresh jobs (fresh attempt budget); a record is removed only once its job is in Redis.',
    )
    .option('--all', 'replay every dead letter (with --reason: those with that reason)')
    .option('--reason <reason>', 'with --all: only this reason')
    .option('--json', 'print the result as JSON')
    .action(
      runCommand((ids: string[], flags: { all?: boolean; reason?: string; json?: boolean }) =>
        withProducerApp(async (app) => {
          if (!flags.all && ids.length === 0)
            throw new CleanupError('INVALID_INPUT', 'name dead letter ids, or pass --all', { field: 'ids' });
          if (flags.all && ids.length > 0)
            throw new CleanupError('INVALID_INPUT', 'pass either ids or --all, not both', { field: 'ids' });
          const result = await app
            .deadLetters()
            .replay(
              flags.all ? 'all' : ids,
              app.producer(),
              flags.reason ? { reason: flags.reason } : undefined,
            );
          if (flags.json) printSafe(result);
          else {
            printSafe(`replayed ${result.replayed.length}, skipped ${result.skipped.length}`);
            for (const s of result.skipped) printSafe(`  ${s.id}: ${s.error}`);
          }
          return result.skipped.length > 0 ? EXIT_CODES.failure : EXIT_CODES.ok;
        }),
      ),
    );

  dlq
    .command('purge')
    .description('Delete dead letters for good.')
    .option('--older-than <duration>', 'only those dead-lettered longer ago than this (e.g. 12h, 7d)')
    .action(
      runCommand((flags: { olderThan?: string }) =>
        withProducerApp(async (app) => {
          const ms =
            flags.olderThan === undefined ? undefined : parseDuration(flags.olderThan, '--older-than');
          printSafe(`purged ${await app.deadLetters().purge(ms)} dead letter(s)`);
          return EXIT_CODES.ok;
        }),
      ),
    );
}
