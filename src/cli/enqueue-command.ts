import { Option, type Command } from 'commander';
import { buildProducerOptions, createApp, pingRedis } from '../app.js';
import { loadConfig, type Config } from '../config/config.js';
import { CleanupError, isCleanupError } from '../errors.js';
import { quoteForMessage } from '../intake/input-error.js';
import { TASK_FORMATS, type TaskFormat } from '../intake/task-record.js';
import { openTaskSource, type ValidationReport } from '../intake/task-source.js';
import {
  JOB_PRIORITIES,
  deleteJobDataSchema,
  taskInputSchema,
  type JobPriority,
  type TaskInput,
} from '../queue/job-contract.js';
import { createProducer, type EnqueueLabels, type EnqueueSummary, type Producer } from '../queue/producer.js';
import { preferLeanHeap } from './lean-heap.js';
import { collect, parseIntOption } from './options.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export interface EnqueueCommandOptions {
  project?: string;
  instance?: string;
  task?: string[];
  region?: string;
  account?: string;
  file?: string;
  format?: TaskFormat;
  reason?: string;
  source: string;
  skipInvalid?: boolean;
  json?: boolean;
  chunkSize: number;
  /** Default bulk. */
  priority?: JobPriority;
}

export interface EnqueueDeps {
  config: Config;
  stdin: AsyncIterable<Uint8Array | string>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** How long Redis may take to answer a first PING (default 5 s). */
  redisTimeoutMs?: number;
}

const EXAMPLES = `
Input (--file): CSV with a header naming project_id, instance_id, task_id and optionally region
(any order, any case), or JSON Lines with one {"project_id","instance_id","task_id","region"} object
per line. The whole input is checked before anything is enqueued. See docs/enqueue.md.

Exit codes: 0 done (duplicates and lines skipped by --skip-invalid included), 1 Redis or another failure,
64 invalid input or usage (nothing enqueued).

Examples:
  $ dcs-cleanup enqueue --project 0504e1b5 --instance 8f1e-22ab --task 3c6d-01 --task 3c6d-02
  $ dcs-cleanup enqueue --file tasks.csv --reason "ticket OPS-1234"
  $ jq -c '.[]' tasks.json | dcs-cleanup enqueue --file - --skip-invalid --json`;

/** Registers `dcs-cleanup enqueue`: validates tasks from flags or a file, then enqueues them. */
export function registerEnqueueCommand(program: Command): void {
  program
    .command('enqueue')
    .description('Validate deletion tasks from flags, a file or stdin, then enqueue one job per task.')
    .option('--project <id>', 'project id of the --task ids, e.g. 0504e1b5 (default: $DCS_PROJECT_ID)')
    .option('--instance <id>', 'DCS instance id of the --task ids, e.g. 8f1e-22ab')
    .option(
      '--task <id>',
      'background task id to delete; repeat or comma-separate for several, e.g. --task a1 --task a2,a3',
      collect,
    )
    .option(
      '--region <region>',
      'region of the --task ids, e.g. cn-north-4 (default: $DCS_REGION at deletion)',
    )
    .option(
      '--account <name>',
      'account (CLEANUP_ACCOUNTS_FILE) whose credentials delete the tasks; default: the account listing the project, else the default; a file line naming one keeps it',
    )
    .option(
      '--file <path>',
      'read tasks from a CSV or JSON Lines file, or "-" for stdin, e.g. --file tasks.csv',
    )
    .addOption(
      new Option(
        '--format <format>',
        'input format, e.g. --format jsonl (default: from the extension, or sniffed)',
      ).choices(TASK_FORMATS),
    )
    .option(
      '--reason <text>',
      'why, stored on every job (at most 200 chars), e.g. --reason "ticket OPS-1234"',
    )
    .option('--source <name>', 'who enqueued, stored on every job, e.g. --source nightly-job', 'cli')
    .option(
      '--skip-invalid',
      'enqueue the valid lines and skip (and list) the invalid ones instead of refusing all',
    )
    .addOption(
      new Option(
        '--priority <lane>',
        'urgent: every job goes before all waiting bulk jobs (events); bulk: in turn, first in first out',
      )
        .choices(JOB_PRIORITIES)
        .default('bulk'),
    )
    .option('--json', 'print {"enqueued":N,"duplicates":N,"invalid":N} on stdout instead of a sentence')
    .option(
      '--chunk-size <n>',
      'jobs per Redis round trip, 1 to 10000, e.g. --chunk-size 500',
      parseIntOption('--chunk-size', 1, 10_000),
      1_000,
    )
    .addHelpText('after', EXAMPLES)
    // Subcommands do not inherit an exitOverride set on the root after they were added: without this,
    // commander would process.exit(1) on a bad option instead of letting bin/cli.ts exit 64.
    .exitOverride()
    .action(
      runCommand(async (options: EnqueueCommandOptions) => {
        preferLeanHeap();
        return runEnqueue(options, {
          config: loadConfig(),
          stdin: process.stdin,
          stdout: process.stdout,
          stderr: process.stderr,
        });
      }),
    );
}

/** The command body: returns the exit code; throws CleanupError for what runCommand prints. */
export async function runEnqueue(options: EnqueueCommandOptions, deps: EnqueueDeps): Promise<number> {
  const labels = buildLabels(options);
  if (options.file === undefined) {
    if (options.format !== undefined) throw usageError('--format only applies to --file', 'format');
    const tasks = buildFlagTasks(options, deps.config);
    const summary = await withProducer(deps, options, (producer) =>
      producer.enqueueMany(tasks, { ...labels, collectJobs: false }),
    );
    return printSummary(deps, options, summary, 0);
  }
  const flags = (['instance', 'task', 'region', 'project'] as const).filter((f) => options[f] !== undefined);
  if (flags.length > 0) {
    throw usageError(`--file names every task itself: drop --${flags.join(', --')}`, flags.join(','));
  }
  const source = await openTaskSource({ path: options.file, format: options.format, stdin: deps.stdin });
  try {
    const report = await source.validate();
    if (report.invalid > 0) printInvalidLines(deps, source.name, report, options.skipInvalid === true);
    if (report.invalid > 0 && options.skipInvalid !== true) return EXIT_CODES.usage;
    if (report.valid === 0)
      throw new CleanupError('INVALID_INPUT', `${source.name}: no valid task to enqueue`);
    const summary = await withProducer(deps, options, (producer) =>
      producer.enqueueMany(withAccount(source.readValidTasks(), options.account), {
        ...labels,
        collectJobs: false,
      }),
    );
    return printSummary(deps, options, summary, report.invalid);
  } finally {
    await source.close();
  }
}

function buildLabels(options: EnqueueCommandOptions): EnqueueLabels {
  const result = deleteJobDataSchema.pick({ reason: true, source: true }).safeParse({
    reason: options.reason,
    source: options.source,
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    const flag = String(issue?.path[0] ?? 'reason');
    throw usageError(`--${flag}: ${issue?.message ?? 'invalid'}`, flag);
  }
  return { reason: result.data.reason, source: result.data.source, priority: options.priority ?? 'bulk' };
}

const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  project_id: '--project',
  instance_id: '--instance',
  task_id: '--task',
  region: '--region',
  account: '--account',
};

function buildFlagTasks(options: EnqueueCommandOptions, config: Config): TaskInput[] {
  const project = options.project ?? config.DCS_PROJECT_ID;
  const taskIds = options.task ?? [];
  if (taskIds.length === 0)
    throw usageError('nothing to enqueue: pass --task (repeatable) or --file', 'task');
  if (project === undefined) throw usageError('--project is required (or set DCS_PROJECT_ID)', 'project');
  if (options.instance === undefined) throw usageError('--instance is required with --task', 'instance');
  return taskIds.map((taskId) => {
    const candidate = {
      project_id: project,
      instance_id: options.instance,
      task_id: taskId,
      region: options.region,
      account: options.account,
    };
    const result = taskInputSchema.safeParse(candidate);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = String(issue?.path[0] ?? 'task_id');
    const value = String(candidate[field as keyof typeof candidate] ?? '');
    throw new CleanupError(
      'INVALID_INPUT',
      `${FLAG_OF_FIELD[field] ?? field} ${quoteForMessage(value)}: ${issue?.message ?? 'invalid'}`,
      { field },
    );
  });
}

/** Connects, checks Redis answers, runs `body` with a producer, and closes everything after. */
async function withProducer<T>(
  deps: EnqueueDeps,
  options: Pick<EnqueueCommandOptions, 'chunkSize' | 'account'>,
  body: (producer: Producer) => Promise<T>,
): Promise<T> {
  const app = createApp(deps.config, { role: 'producer' });
  try {
    // The accounts file is checked, and --account with it, before Redis is asked anything.
    const accounts = app.accounts();
    if (options.account !== undefined) accounts.get(options.account, '--account');
    await pingRedis(app.connection, deps.redisTimeoutMs);
    const producer = createProducer({
      ...buildProducerOptions(app.config, app.connection),
      chunkSize: options.chunkSize,
      accounts,
    });
    try {
      return await body(producer);
    } catch (err) {
      if (isCleanupError(err)) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      const hint = 'running the same command again is safe: tasks already queued count as duplicates';
      throw new CleanupError('REDIS_UNAVAILABLE', `enqueueing failed (${reason}); ${hint}`, { cause: err });
    } finally {
      await producer.close();
    }
  } finally {
    await app.close();
  }
}

/** The tasks of a file, `--account` given to each line that names none. */
async function* withAccount(
  tasks: AsyncIterable<TaskInput>,
  account: string | undefined,
): AsyncGenerator<TaskInput> {
  for await (const task of tasks)
    yield account === undefined || task.account !== undefined ? task : { ...task, account };
}

function printInvalidLines(
  deps: EnqueueDeps,
  name: string,
  report: ValidationReport,
  skipping: boolean,
): void {
  const count = `${report.invalid} invalid line${report.invalid === 1 ? '' : 's'}`;
  const head = skipping
    ? `${name}: skipping ${count}`
    : `${name}: ${count}, nothing was enqueued (--skip-invalid enqueues the valid lines)`;
  const lines = report.errors.map((error) => `  ${error.message}`);
  const rest = report.invalid - report.errors.length;
  if (rest > 0) lines.push(`  ... and ${rest} more`);
  deps.stderr.write(`dcs-cleanup: ${head}:\n${lines.join('\n')}\n`);
}

function printSummary(
  deps: EnqueueDeps,
  options: EnqueueCommandOptions,
  summary: EnqueueSummary,
  invalid: number,
): number {
  const { enqueued, duplicates } = summary;
  deps.stdout.write(
    options.json === true
      ? `${JSON.stringify({ enqueued, duplicates, invalid })}\n`
      : `enqueued ${enqueued}, duplicates ${duplicates}, invalid ${invalid}\n`,
  );
  return EXIT_CODES.ok;
}

function usageError(message: string, field: string): CleanupError {
  return new CleanupError('INVALID_INPUT', message, { field });
}
