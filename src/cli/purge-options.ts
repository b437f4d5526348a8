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
  const project = flags.project ?? config.DCS_PROJECT_ID;
  if (project === undefined) throw usage('--project is required (or set DCS_PROJECT_ID)', 'project');
  validateId(project, '--project');
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
      project_id: project,
      ...(region === undefined ? {} : { region }),
      ...(flags.allInstances
        ? { all_instances: true }
        : { instances: [...new Set(instances)], all_instances: false }),
    },
    filters,
    max: flags.max,
  };
}

/** One line describing a spec's filters, for summaries and confirmations. */
export function describeSpec(spec: PurgeSpec): string {
  const { scope, filters } = spec;
  const parts = [
    `project ${scope.project_id}`,
    scope.all_instances ? 'all instances' : `instance(s) ${scope.instances?.join(', ')}`,
    `status ${filters.statuses.join('|')}`,
  ];
  if (filters.older_than) parts.push(`older than ${filters.older_than}`);
  if (filters.names.length > 0) parts.push(`name ${filters.names.join('|')}`);
  if (filters.exclude_instances.length > 0) parts.push(`excluding ${filters.exclude_instances.join(', ')}`);
  if (scope.region) parts.push(`region ${scope.region}`);
  return parts.join('; ');
}

function usage(message: string, field: string): CleanupError {
  return new CleanupError('INVALID_INPUT', message, { field });
}
