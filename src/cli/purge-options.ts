import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { findRegionProblem } from '../config/regions.js';
import { validateId } from '../dcs/ids.js';
import { CleanupError } from '../errors.js';
import { DEFAULT_MAX_DELETIONS, MAX_MAX_DELETIONS } from '../purge/plan-purge.js';
import { parsePurgeFilters } from '../purge/purge-filters.js';
import type { PurgeSpec } from '../purge/select-purge.js';
import { collect, parseIntOption } from './options.js';

/** Scope, filter and guard flags shared by `purge` and `schedule add`. */
export interface SelectionFlags {
  project?: string;
  instance?: string[];
  allInstances?: boolean;
  region?: string;
  account?: string;
  /** `purge` only: every listed project of every account. */
  allAccounts?: boolean;
  olderThan?: string;
  status?: string[];
  name?: string[];
  excludeInstance?: string[];
  max: number;
}

/** Adds the scope, filter and guard flags to `command`. */
export function addSelectionOptions(command: Command): Command {
  return command
    .option('--project <id>', 'project id (default: $DCS_PROJECT_ID)')
    .option('--instance <id>', 'an instance to purge; repeatable or comma-separated', collect)
    .option('--all-instances', 'purge every instance of the project (listed through the API)')
    .option('--region <region>', 'region to list and delete in, e.g. cn-north-4 (default: $DCS_REGION)')
    .option(
      '--account <name>',
      'account (CLEANUP_ACCOUNTS_FILE) whose credentials list and delete; without --project, every project it lists',
    )
    .option('--older-than <duration>', 'only tasks created longer ago than this, e.g. 12h, 7d, 30d')
    .option(
      '--status <status>',
      'SUCCESS and/or FAILED (default both); unfinished tasks are never selected',
      collect,
    )
    .option('--name <name>', 'only these task names, e.g. EXTEND,BindEip (case-insensitive)', collect)
    .option('--exclude-instance <id>', 'never touch this instance; repeatable or comma-separated', collect)
    .option(
      '--max <n>',
      'blast-radius guard: if more tasks match, nothing is enqueued',
      parseIntOption('--max', 1, MAX_MAX_DELETIONS),
      DEFAULT_MAX_DELETIONS,
    );
}

/**
 * Validates the flags into a purge spec; INVALID_INPUT naming the flag. `defaultRegion` is what the
 * spec records when no --region is given (undefined leaves it to whoever runs the spec).
 */
export function buildPurgeSpec(flags: SelectionFlags, config: Config, defaultRegion?: string): PurgeSpec {
  if (flags.allAccounts && flags.account !== undefined)
    throw usage('pass --account or --all-accounts, not both', 'account');
  if (flags.allAccounts && flags.project !== undefined)
    throw usage('--all-accounts purges every project the accounts list: drop --project', 'project');
  // --account (or --all-accounts) without --project: every project listed, so DCS_PROJECT_ID is not used.
  const named = flags.account !== undefined || flags.allAccounts === true;
  const project = flags.project ?? (named ? undefined : config.DCS_PROJECT_ID);
  if (project === undefined && !named)
    throw usage('--project is required (or set DCS_PROJECT_ID)', 'project');
  if (project === undefined && !flags.allInstances) {
    throw usage(
      'every project of an account (--all-accounts, or --account without --project) needs --all-instances',
      'instance',
    );
  }
  if (project !== undefined) validateId(project, '--project');
  const instances = flags.instance ?? [];
  for (const instance of instances) validateId(instance, '--instance');
  for (const instance of flags.excludeInstance ?? []) validateId(instance, '--exclude-instance');
  if (instances.length > 0 && flags.allInstances)
    throw usage('pass --instance or --all-instances, not both', 'instance');
  if (instances.length === 0 && !flags.allInstances) {
    throw usage('choose the scope: --instance <id> (repeatable) or --all-instances', 'instance');
  }
  const region = flags.region ?? defaultRegion;
  const problem = region === undefined ? undefined : findRegionProblem(region);
  if (problem !== undefined) throw usage(`--region: ${problem}`, 'region');
  const filters = parsePurgeFilters({
    olderThan: flags.olderThan,
    status: flags.status,
    name: flags.name,
    excludeInstance: flags.excludeInstance,
  });
  return {
    scope: {
      // Empty: the account's projects, filled in per project by the purge (isAcrossProjects).
      project_id: project ?? '',
      ...(region === undefined ? {} : { region }),
      ...(flags.account === undefined ? {} : { account: flags.account }),
      ...(flags.allInstances
        ? { all_instances: true }
        : { instances: [...new Set(instances)], all_instances: false }),
    },
    filters,
    max: flags.max,
  };
}

/** True for a spec that covers every project of an account (or of every account). */
export function isAcrossProjects(spec: PurgeSpec): boolean {
  return spec.scope.project_id === '';
}

/** One line describing a spec's filters, for summaries and confirmations. */
export function describeSpec(spec: PurgeSpec): string {
  const { scope, filters } = spec;
  const where = scope.account === undefined ? 'every account' : `account ${scope.account}`;
  const parts = [
    isAcrossProjects(spec) ? `every project of ${where}` : `project ${scope.project_id}`,
    scope.all_instances ? 'all instances' : `instance(s) ${scope.instances?.join(', ')}`,
    `status ${filters.statuses.join('|')}`,
  ];
  if (filters.older_than) parts.push(`older than ${filters.older_than}`);
  if (filters.names.length > 0) parts.push(`name ${filters.names.join('|')}`);
  if (filters.exclude_instances.length > 0) parts.push(`excluding ${filters.exclude_instances.join(', ')}`);
  if (scope.region) parts.push(`region ${scope.region}`);
  if (scope.account !== undefined && !isAcrossProjects(spec)) parts.push(`account ${scope.account}`);
  return parts.join('; ');
}

function usage(message: string, field: string): CleanupError {
  return new CleanupError('INVALID_INPUT', message, { field });
}
