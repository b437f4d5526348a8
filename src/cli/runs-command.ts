/**
 * `dcs-cleanup runs`: the run ledger. `list` (newest first), `show ID`, `cancel ID` (waiting jobs
 * removed, in-flight ones finish, state `cancelled`) and `report ID --out F` (the record as JSON).
 */
import type { Command } from 'commander';
import { printSafe, withProducerApp } from './producer-app.js';
import type { App } from '../app.js';
import { CleanupError } from '../errors.js';
import { cancelRun } from '../runs/cancel-run.js';
import { RUN_ID_PATTERN, type RunRecord } from '../runs/run-record.js';
import { parseIntOption } from './options.js';
import { EXIT_CODES, runCommand } from './run-command.js';
import { writeJsonFile } from './write-json-file.js';

/** One line of `runs list`. */
export function describeRun(r: RunRecord): string {
  const c = r.counts;
  const counts = [
    `selected ${c.selected}`,
    `deleted ${c.deleted}`,
    `gone ${c.already_gone}`,
    `dead ${c.dead_lettered}`,
    `pending ${c.pending}`,
    ...(c.cancelled > 0 ? [`cancelled ${c.cancelled}`] : []),
    ...(c.still_present === undefined ? [] : [`still present ${c.still_present}`]),
  ];
  return `${r.run_id}  ${r.state}  ${r.kind}  by ${r.started_by}  ${counts.join(', ')}  started ${r.created_at}`;
}

async function readRun(app: App, id: string): Promise<RunRecord> {
  checkRunId(id);
  const record = await app.runs().get(id);
  if (!record)
    throw new CleanupError('NOT_FOUND', `no run ${id} (runs expire, see RUNS_RETENTION_DAYS)`, {
      field: 'id',
    });
  return record;
}

function checkRunId(id: string): void {
  if (!RUN_ID_PATTERN.test(id)) {
    throw new CleanupError(
      'INVALID_INPUT',
      `run id ${JSON.stringify(id.slice(0, 90))}: use 1 to 80 letters, digits, ".", "_" or "-"`,
      {
        field: 'id',
      },
    );
  }
}

export function registerRunsCommand(program: Command): void {
  const runs = program
    .command('runs')
    .description('Follow, cancel and report runs: every purge, plan apply, schedule firing and API batch.');

  runs
    .command('list')
    .description('List runs, newest first.')
    .option('--json', 'print a JSON array of full records')
    .option('--limit <n>', 'at most this many (default 50)', parseIntOption('--limit', 1, 100_000), 50)
    .action(
      runCommand((flags: { json?: boolean; limit: number }) =>
        withProducerApp(async (app) => {
          const records = await app.runs().list(flags.limit);
          if (flags.json) printSafe(records);
          else {
            for (const r of records) printSafe(describeRun(r));
            printSafe(`${records.length} run(s)`);
          }
          return EXIT_CODES.ok;
        }),
      ),
    );

  runs
    .command('show <id>')
    .description("Show a run's record: who started it, spec, state, counts, timings, report.")
    .option('--json', 'print the record as JSON')
    .action(
      runCommand((id: string, flags: { json?: boolean }) =>
        withProducerApp(async (app) => {
          const record = await readRun(app, id);
          if (flags.json) printSafe(record);
          else {
            printSafe(describeRun(record));
            printSafe(
              `enqueued ${record.counts.enqueued}, duplicates ${record.counts.duplicates}; enqueued at ${record.enqueued_at ?? '-'}, finished at ${record.finished_at ?? '-'}`,
            );
            if (record.error !== null) printSafe(`error: ${record.error}`);
            if (record.spec !== null) printSafe(`spec: ${JSON.stringify(record.spec)}`);
          }
          return EXIT_CODES.ok;
        }),
      ),
    );

  runs
    .command('cancel <id>')
    .description('Cancel a run: remove its waiting jobs, let in-flight ones finish, mark it cancelled.')
    .action(
      runCommand((id: string) =>
        withProducerApp(async (app) => {
          checkRunId(id);
          const result = await cancelRun(
            app.runs(),
            { queue: app.producer().queue, connection: app.connection },
            id,
          );
          if (result.state === undefined) {
            throw new CleanupError('NOT_FOUND', `no run ${id}`, { field: 'id' });
          }
          if (!result.cancelled) {
            printSafe(`run ${id} is over already (${result.state}): nothing to cancel`);
            return EXIT_CODES.failure;
          }
          printSafe(
            `run ${id} cancelled: ${result.removed} waiting job(s) removed; jobs in flight finish and are counted`,
          );
          return EXIT_CODES.ok;
        }),
      ),
    );

  runs
    .command('report <id>')
    .description("Write a run's record (counts, timings, report) as JSON.")
    .requiredOption('--out <file.json>', 'where to write it')
    .action(
      runCommand((id: string, flags: { out: string }) =>
        withProducerApp(async (app) => {
          const record = await readRun(app, id);
          await writeJsonFile(flags.out, record);
          printSafe(`run ${id} (${record.state}) written to ${flags.out}`);
          return EXIT_CODES.ok;
        }),
      ),
    );
}
