import type { Command } from 'commander';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin, type App } from '../app.js';
import { loadConfig, type Config } from '../config/config.js';
import { CleanupError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { parseDuration } from '../purge/duration.js';
import {
  createSchedules,
  type ScheduleInfo,
  type Schedules,
  type ScheduleTiming,
} from '../queue/schedules.js';
import {
  addSelectionOptions,
  buildPurgeSpec,
  describeSpec,
  isAcrossProjects,
  type SelectionFlags,
} from './purge-options.js';
import { createAccountRegistry } from '../accounts/account-registry.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export interface AddFlags extends SelectionFlags {
  cron?: string;
  tz?: string;
  every?: string;
  verify?: boolean;
}

interface Out {
  write(text: string): unknown;
}

const HELP = `
A schedule is a purge (same scope, filters and --max guard) that the \`dcs-cleanup worker\` processes
run when it fires: the worker lists, selects, and enqueues the deletions under a run id, then logs a
"schedule run" record. Adding an existing name updates it. Workers need CLOUD_SDK_AK/SK; the
schedule itself holds no credentials. Without --region, the worker's DCS_REGION applies.

Examples:
  $ dcs-cleanup schedule add nightly --cron "0 3 * * *" --tz Asia/Shanghai --all-instances --older-than 30d
  $ dcs-cleanup schedule add failed-6h --every 6h --instance 8f1e... --status FAILED --max 200
  $ dcs-cleanup schedule list --json
  $ dcs-cleanup schedule run nightly
  $ dcs-cleanup schedule remove nightly`;

/** Registers `dcs-cleanup schedule add|list|remove|run`. */
export function registerScheduleCommand(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Scheduled housekeeping: purges the workers run on a cron or an interval.');
  addSelectionOptions(
    schedule
      .command('add <name>')
      .description('Create or update a scheduled purge.')
      .option('--cron <pattern>', 'cron pattern, e.g. "0 3 * * *" (minute hour day month weekday)')
      .option('--tz <zone>', 'IANA time zone of --cron, e.g. Asia/Shanghai (default UTC)')
      .option('--every <duration>', 'fixed interval instead of --cron, e.g. 6h')
      .option(
        '--verify',
        "after each firing's jobs end, list the instances again and record tasks still there",
      ),
  )
    .addHelpText('after', HELP)
    .action(
      runCommand((name: string, flags: AddFlags) =>
        withSchedules((s, config, out) => addSchedule(s, config, out, name, flags)),
      ),
    );

  schedule
    .command('list')
    .description('List schedules with their next run and the result of their last run.')
    .option('--json', 'print a JSON array')
    .action(
      runCommand((flags: { json?: boolean }) =>
        withSchedules((s, _c, out) => listSchedules(s, out, flags.json === true)),
      ),
    );

  schedule
    .command('remove <name>')
    .description('Remove a schedule (a firing already running finishes).')
    .action(
      runCommand((name: string) =>
        withSchedules(async (s, _c, out) => {
          if (!(await s.remove(name))) throw notFound(name);
          out.write(`schedule ${name} removed\n`);
          return EXIT_CODES.ok;
        }),
      ),
    );

  schedule
    .command('run <name>')
    .description('Fire a schedule once now; a running worker picks it up.')
    .action(
      runCommand((name: string) =>
        withSchedules(async (s, _c, out) => {
          const jobId = await s.runNow(name);
          out.write(
            `schedule ${name} fired (job ${jobId}); a worker runs it and logs a "schedule run" record\n`,
          );
          return EXIT_CODES.ok;
        }),
      ),
    );
}

async function withSchedules(
  body: (schedules: Schedules, config: Config, out: Out) => Promise<number>,
): Promise<number> {
  const config = loadConfig();
  const app: App = createApp(config, { role: 'producer', logger: createLogger({ level: 'silent' }) });
  const schedules = createSchedules({ connection: app.connection, prefix: app.prefix });
  try {
    await pingRedis(app.connection);
    return await body(schedules, config, process.stdout);
  } finally {
    await settleWithin(schedules.close(), CLOSE_WAIT_MS);
    await app.close();
  }
}

/** `schedule add`: validates timing and spec, then upserts the scheduler. */
export async function addSchedule(
  schedules: Schedules,
  config: Config,
  out: Out,
  name: string,
  flags: AddFlags,
): Promise<number> {
  const timing = buildTiming(flags);
  const spec = { ...buildPurgeSpec(flags, config), ...(flags.verify ? { verify: true } : {}) };
  if (isAcrossProjects(spec)) {
    throw new CleanupError('INVALID_INPUT', 'a schedule purges one project: pass --project with --account', {
      field: 'project',
    });
  }
  // The account must exist now, not at the first firing.
  if (spec.scope.account !== undefined) createAccountRegistry(config).get(spec.scope.account, '--account');
  const info = await schedules.upsert(name, timing, spec);
  out.write(
    `schedule ${name} saved: ${describeTiming(info)}; next run ${info.next_run_at ?? 'unknown'}\n  ${describeSpec(spec)}; max ${spec.max}\n`,
  );
  return EXIT_CODES.ok;
}

async function listSchedules(schedules: Schedules, out: Out, json: boolean): Promise<number> {
  const all = await schedules.list();
  if (json) {
    out.write(`${JSON.stringify(all, null, 2)}\n`);
    return EXIT_CODES.ok;
  }
  for (const s of all) {
    const last = s.last_run
      ? `last run ${s.last_run.finished_at}: ${s.last_run.status} (matched ${s.last_run.matched}, enqueued ${s.last_run.enqueued}, run ${s.last_run.run_id})`
      : 'never run';
    out.write(`${s.name}  ${describeTiming(s)}  next ${s.next_run_at ?? '-'}  ${last}\n`);
    if (s.spec) out.write(`  ${describeSpec(s.spec)}; max ${s.spec.max}\n`);
  }
  out.write(`${all.length} schedule(s)\n`);
  return EXIT_CODES.ok;
}

function buildTiming(flags: AddFlags): ScheduleTiming {
  if ((flags.cron === undefined) === (flags.every === undefined)) {
    throw new CleanupError('INVALID_INPUT', 'pass exactly one of --cron <pattern> or --every <duration>', {
      field: 'cron',
    });
  }
  if (flags.every !== undefined) {
    if (flags.tz !== undefined)
      throw new CleanupError('INVALID_INPUT', '--tz applies to --cron only', { field: 'tz' });
    return { everyMs: parseDuration(flags.every, '--every') };
  }
  // Without a zone cron-parser uses the local zone of whichever process computes the next run.
  return { cron: flags.cron!, tz: flags.tz ?? 'UTC' };
}

function describeTiming(info: ScheduleInfo): string {
  if (info.cron !== null) return `cron "${info.cron}" ${info.tz ?? 'UTC'}`;
  return `every ${info.every_ms === null ? '?' : formatEvery(info.every_ms)}`;
}

function formatEvery(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms / 1000}s`;
}

function notFound(name: string): CleanupError {
  return new CleanupError('NOT_FOUND', `no schedule named ${JSON.stringify(name.slice(0, 40))}`, {
    field: 'name',
  });
}
