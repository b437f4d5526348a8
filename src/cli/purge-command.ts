import { createConfiguredCredentialProvider } from '../dcs/credential-sources/create-credential-provider.js';
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { loadConfig, type Config } from '../config/config.js';
import { createClientRegistry } from '../dcs/client-registry.js';
import { CleanupError } from '../errors.js';
import { buildStreamedPlanFile } from '../purge/plan-file.js';
import { DEFAULT_LIST_CONCURRENCY } from '../purge/stream-inventory.js';
import { MAX_MAX_DELETIONS } from '../purge/plan-purge.js';
import { buildRunId } from '../purge/run-id.js';
import { selectPurge, type PurgeListing, type PurgeSpec } from '../purge/select-purge.js';
import { askConfirmation, isInteractiveTerminal } from './confirm-prompt.js';
import { preferLeanHeap } from './lean-heap.js';
import { parseIntOption } from './options.js';
import { addSelectionOptions, buildPurgeSpec, describeSpec, type SelectionFlags } from './purge-options.js';
import { printGuardStop, printListing, printPlannedTasks } from './purge-output.js';
import { runPurgeApply, type ApplyFlags } from './purge-apply.js';
import {
  checkRunFlags,
  confirmRun,
  enqueueAndFollow,
  stopAtGuard,
  type PurgeDeps,
  type RunFlags,
  type RunHeader,
} from './purge-run.js';
import { EXIT_CODES, runCommand } from './run-command.js';
import { writeJsonFile } from './write-json-file.js';

export interface PurgeFlags extends SelectionFlags, RunFlags {
  dryRun?: boolean;
  out?: string;
  concurrency: number;
}

const HELP = `
Scope is one project and either --instance (repeatable) or --all-instances. Filters are AND-ed;
a task that is not final (EXECUTING, WAITING, CREATED) is never selected, whatever the flags.
Nothing is enqueued if more than --max tasks match. See docs/purge.md.

Exit codes: 0 every task ended deleted or already gone (without --wait: enqueued), 1 failure
(listing or Redis failed, tasks skipped, or still open when --wait-timeout passed), 2 some ended
in the dead letters, 3 the --max guard stopped the run (nothing enqueued), 64 usage or configuration.

Examples:
  $ dcs-cleanup purge --all-instances --older-than 30d --dry-run
  $ dcs-cleanup purge --instance 8f1e... --older-than 7d --name EXTEND,BindEip --out plan.json
  $ dcs-cleanup purge apply plan.json --yes --wait --report report.json
  $ dcs-cleanup purge --all-instances --older-than 90d --status FAILED --max 5000 --yes --wait`;

/** Registers `dcs-cleanup purge` and `dcs-cleanup purge apply <plan>`. */
export function registerPurgeCommand(program: Command): void {
  // `purge` and `purge apply` share flag names (--wait, --yes, --report): without positional options
  // the parent would take them even when they follow `apply`.
  program.enablePositionalOptions();
  const purge = addSelectionOptions(
    program
      .command('purge')
      .description(
        'Select finished tasks through the DCS list APIs and enqueue their deletion (dry run, plan, guard).',
      ),
  );
  purge
    .option('--dry-run', 'list what would be deleted; enqueue nothing')
    .option(
      '--out <plan.json>',
      'write the reviewed plan to this file; enqueue nothing (apply it with `purge apply`)',
    )
    .option(
      '--concurrency <n>',
      'instances listed at once',
      parseIntOption('--concurrency', 1, 64),
      DEFAULT_LIST_CONCURRENCY,
    );
  addRunOptions(purge)
    .addHelpText('after', HELP)
    .action(
      runCommand((flags: PurgeFlags) => {
        preferLeanHeap();
        return runPurge(flags, defaultDeps());
      }),
    );

  addRunOptions(
    purge
      .command('apply <plan>')
      .description('Enqueue exactly the tasks of a plan written by `purge --out`, nothing more.')
      .option(
        '--max <n>',
        "guard: refuse a plan with more tasks (default: the plan's own --max)",
        parseIntOption('--max', 1, MAX_MAX_DELETIONS),
      )
      .option('--max-age <duration>', 'refuse a plan older than this', '24h')
      .option('--allow-stale', 'apply a plan older than --max-age'),
  ).action(
    runCommand((file: string, flags: ApplyFlags) => {
      preferLeanHeap();
      return runPurgeApply(file, flags, defaultDeps());
    }),
  );
}

function addRunOptions(command: Command): Command {
  return command
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--wait', 'follow every job of the run to its end, then print the summary')
    .option(
      '--wait-timeout <duration>',
      'with --wait, stop following after this long (e.g. 2h); still-open jobs exit 1',
    )
    .option('--report <file.json>', "write the run's summary and every task's outcome as JSON");
}

function defaultDeps(): PurgeDeps {
  return {
    config: loadConfig(),
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => new Date(),
    interactive: isInteractiveTerminal(),
    confirm: askConfirmation,
    createdBy: describeUser(),
  };
}

/** `purge`: list, select, then dry run, plan file, or enqueue (and follow). Returns the exit code. */
export async function runPurge(flags: PurgeFlags, deps: PurgeDeps): Promise<number> {
  const spec = buildPurgeSpec(flags, deps.config, deps.config.DCS_REGION);
  if (flags.dryRun && flags.out !== undefined) {
    throw new CleanupError('INVALID_INPUT', 'pass --dry-run or --out, not both', { field: 'out' });
  }
  const enqueues = !flags.dryRun && flags.out === undefined;
  const waitTimeoutMs = checkRunFlags(flags, enqueues, deps.interactive);
  const startedAt = deps.now();
  const listing = await listScope(spec, flags.concurrency, deps.config, startedAt);
  const runId = buildRunId('purge', startedAt, randomBytes(3).toString('hex'));
  printListing(deps.stdout, spec, listing);
  const header = buildHeader(runId, spec, startedAt, listing.counts);
  if (listing.guard.stopped) {
    printGuardStop(deps.stdout, listing);
    return stopAtGuard(header, listing.counts.matched, flags.report);
  }
  if (flags.dryRun) {
    printPlannedTasks(deps.stdout, listing.selected);
    deps.stdout.write(`dry run: nothing was enqueued; ${listing.selected.length} task(s) would be deleted\n`);
    return EXIT_CODES.ok;
  }
  if (flags.out !== undefined) return writePlan(flags.out, listing, spec, header, deps);
  const question = `Delete ${listing.selected.length} task(s) (${describeSpec(spec)})?`;
  if (listing.selected.length > 0 && !(await confirmRun(deps, flags, question))) return EXIT_CODES.failure;
  return enqueueAndFollow(deps.config, deps, {
    header,
    tasks: listing.selected,
    skipped: listing.skipped,
    wait: flags.wait === true,
    waitTimeoutMs,
    reportPath: flags.report,
  });
}

/** Lists the scope with credentials from the configuration; the clients are closed after. */
async function listScope(
  spec: PurgeSpec,
  concurrency: number,
  config: Config,
  now: Date,
): Promise<PurgeListing> {
  const clients = createClientRegistry(config, createConfiguredCredentialProvider(config));
  try {
    return await selectPurge(clients.get(spec.scope.region), spec, { now, concurrency });
  } finally {
    await clients.close();
  }
}

async function writePlan(
  path: string,
  listing: PurgeListing,
  spec: PurgeSpec,
  header: RunHeader,
  deps: PurgeDeps,
): Promise<number> {
  const plan = buildStreamedPlanFile(listing, {
    runId: header.run_id,
    createdAt: new Date(header.started_at),
    createdBy: deps.createdBy,
    projectId: spec.scope.project_id,
    region: spec.scope.region,
    filters: spec.filters,
    scope: { instances: spec.scope.instances, all_instances: spec.scope.all_instances },
  });
  await writeJsonFile(path, plan);
  deps.stdout.write(
    `plan written to ${path}: ${listing.selected.length} task(s), nothing enqueued; apply with \`dcs-cleanup purge apply ${path}\`\n`,
  );
  return EXIT_CODES.ok;
}

function buildHeader(runId: string, spec: PurgeSpec, startedAt: Date, counts: object): RunHeader {
  return {
    run_id: runId,
    mode: 'purge',
    project_id: spec.scope.project_id,
    region: spec.scope.region ?? null,
    filters: { ...spec.filters, instances: spec.scope.instances, all_instances: spec.scope.all_instances },
    max: spec.max,
    started_at: startedAt.toISOString(),
    selection: { ...counts },
  };
}

function describeUser(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // Some containers run as a uid without a passwd entry.
  }
  return `${user}@${hostname()}`;
}
