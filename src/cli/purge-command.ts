import type { Command } from 'commander';
import { describeUser } from './cli-user.js';
import { loadConfig, type Config } from '../config/config.js';
import { createAccountRegistry, type AccountRegistry } from '../accounts/account-registry.js';
import { CleanupError } from '../errors.js';
import { buildStreamedPlanFile } from '../purge/plan-file.js';
import { DEFAULT_LIST_CONCURRENCY } from '../purge/stream-inventory.js';
import { MAX_MAX_DELETIONS } from '../purge/plan-purge.js';
import { executePurge, type PurgeOutcome } from '../purge/purge-use-case.js';
import { randomRunSuffix } from '../purge/run-id.js';
import type { PurgeListing, PurgeSpec, ScopePart } from '../purge/select-purge.js';
import type { EnqueueSelectionResult } from '../queue/enqueue-selection.js';
import { askConfirmation, isInteractiveTerminal } from './confirm-prompt.js';
import { preferLeanHeap } from './lean-heap.js';
import { parseIntOption } from './options.js';
import {
  addSelectionOptions,
  buildPurgeSpec,
  describeSpec,
  isAcrossProjects,
  type SelectionFlags,
} from './purge-options.js';
import { printGuardStop, printListing, printPlannedTasks } from './purge-output.js';
import { runPurgeApply, type ApplyFlags } from './purge-apply.js';
import {
  checkRunFlags,
  confirmRun,
  openRunSession,
  stopAtGuard,
  type PurgeDeps,
  type RunFlags,
  type RunSession,
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
    .option(
      '--all-accounts',
      'every project listed by every account of CLEANUP_ACCOUNTS_FILE, under one --max guard (with --all-instances)',
    )
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
    .option('--report <file.json>', "write the run's summary and every task's outcome as JSON")
    .option(
      '--verify',
      'with --wait, list the instances again once the jobs ended and report tasks still there (exit 1 if any)',
    );
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
  const spec = buildPurgeSpec(flags, deps.config, defaultRegionOf(flags, deps.config));
  if (flags.dryRun && flags.out !== undefined) {
    throw new CleanupError('INVALID_INPUT', 'pass --dry-run or --out, not both', { field: 'out' });
  }
  if (isAcrossProjects(spec) && flags.out !== undefined) {
    throw new CleanupError('INVALID_INPUT', 'a plan file holds one project: --out needs --project', {
      field: 'out',
    });
  }
  const enqueues = !flags.dryRun && flags.out === undefined;
  const waitTimeoutMs = checkRunFlags(flags, enqueues, deps.interactive);
  const verify = flags.verify === true;
  const session = openRunSession(deps.config, deps, flags.report !== undefined, {
    kind: 'purge',
    startedBy: deps.createdBy,
    spec: { ...spec, verify },
    verify,
  });
  try {
    const outcome = await purgeScope(spec, flags, deps, session);
    const header = buildHeader(outcome.runId, spec, outcome.startedAt, outcome.listing.counts);
    const { listing } = outcome;
    switch (outcome.status) {
      case 'guard_stopped':
        printGuardStop(deps.stdout, listing);
        return await stopAtGuard(header, listing.counts.matched, flags.report);
      case 'declined':
        return EXIT_CODES.failure;
      case 'enqueued':
        return await session.finish(
          {
            header,
            tasks: listing.selected,
            skipped: listing.skipped,
            wait: flags.wait === true,
            waitTimeoutMs,
            reportPath: flags.report,
          },
          outcome.enqueued,
        );
      case 'planned':
        if (flags.out !== undefined) return await writePlan(flags.out, listing, spec, header, deps);
        printPlannedTasks(deps.stdout, listing.selected);
        deps.stdout.write(
          `dry run: nothing was enqueued; ${listing.selected.length} task(s) would be deleted\n`,
        );
        return EXIT_CODES.ok;
    }
  } finally {
    await session.close();
  }
}

/** Without --region, the region of the purge's one account (its file `region`), else DCS_REGION. */
function defaultRegionOf(flags: PurgeFlags, config: Config): string {
  const project = flags.project ?? config.DCS_PROJECT_ID;
  if (flags.allAccounts || (flags.account === undefined && project === undefined)) return config.DCS_REGION;
  const accounts = createAccountRegistry(config);
  const account = flags.account === undefined ? accounts.resolve(project!) : accounts.find(flags.account);
  return account?.region ?? config.DCS_REGION;
}

/**
 * The listing parts of an across-projects purge: every project of the named account, or of every
 * account, each listed with its account's credentials in `--region` or the account's region.
 */
function buildAcross(
  spec: PurgeSpec,
  flags: PurgeFlags,
  accounts: AccountRegistry,
): readonly ScopePart[] | undefined {
  if (!isAcrossProjects(spec)) return undefined;
  const chosen =
    spec.scope.account === undefined ? accounts.all() : [accounts.get(spec.scope.account, '--account')];
  const parts = chosen.flatMap((account) =>
    account.projects.map((project_id) => {
      const region = flags.region ?? account.region;
      return {
        scope: { ...spec.scope, project_id, region, account: account.name },
        lister: account.clients().get(region),
      };
    }),
  );
  if (parts.length === 0) {
    throw new CleanupError(
      'INVALID_INPUT',
      `no project to purge: ${describeSpec(spec)} lists none (projects in CLEANUP_ACCOUNTS_FILE)`,
      {
        field: spec.scope.account === undefined ? 'all-accounts' : 'account',
      },
    );
  }
  return parts;
}

/** The purge use case with each account's credentials; the DCS clients are closed after. */
async function purgeScope(
  spec: PurgeSpec,
  flags: PurgeFlags,
  deps: PurgeDeps,
  session: RunSession,
): Promise<PurgeOutcome<EnqueueSelectionResult>> {
  const accounts = createAccountRegistry(deps.config);
  try {
    const across = buildAcross(spec, flags, accounts);
    const account =
      across === undefined
        ? spec.scope.account === undefined
          ? accounts.resolve(spec.scope.project_id)
          : accounts.get(spec.scope.account, '--account')
        : undefined;
    return await executePurge(
      {
        // Unused across projects: each part has its account's lister.
        lister: (account ?? accounts.get(accounts.defaultName)).clients().get(spec.scope.region),
        enqueue: session.enqueue,
        now: deps.now,
        randomHex: randomRunSuffix,
      },
      {
        spec,
        across,
        intent: flags.dryRun || flags.out !== undefined ? 'plan' : 'run',
        source: 'purge',
        reason: 'purge',
        concurrency: flags.concurrency,
        onListed: (listing) => printListing(deps.stdout, spec, listing),
        approve: async (listing) => {
          if (listing.selected.length === 0) return true;
          return confirmRun(
            deps,
            flags,
            `Delete ${listing.selected.length} task(s) (${describeSpec(spec)})?`,
          );
        },
      },
    );
  } finally {
    await accounts.close();
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
    project_id: isAcrossProjects(spec) ? describeSpec(spec).split(';')[0]! : spec.scope.project_id,
    region: spec.scope.region ?? null,
    filters: { ...spec.filters, instances: spec.scope.instances, all_instances: spec.scope.all_instances },
    max: spec.max,
    started_at: startedAt.toISOString(),
    selection: { ...counts },
  };
}
