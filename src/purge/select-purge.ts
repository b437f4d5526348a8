/**
 * A purge's specification (scope, filters, guard), JSON-safe so a schedule can carry it, and the
 * one function that turns it into a selection: inventory streamed into the planner.
 */
import { z } from 'zod';
import { regionSchema } from '../config/regions.js';
import { idSchema, isValidId } from '../dcs/ids.js';
import { CleanupError } from '../errors.js';
import { FINAL_STATUSES, buildCreatedBefore, type PurgeFilters } from './purge-filters.js';
import { MAX_MAX_DELETIONS, planPurge, type ListedTask, type PurgeSelection } from './plan-purge.js';
import { streamInventory, type InventoryStats, type TaskLister } from './stream-inventory.js';
import { parseDuration } from './duration.js';
import { ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE } from '../config/accounts-file.js';

const id = idSchema;

/** Where a purge looks: one project (of one account), and either named instances or all of them. */
export const purgeScopeSchema = z
  .object({
    project_id: id,
    region: regionSchema.optional(),
    /** The account whose credentials list and delete (CLEANUP_ACCOUNTS_FILE); default: the project's. */
    account: z.string().regex(ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE).optional(),
    instances: z.array(id).min(1).optional(),
    all_instances: z.boolean(),
  })
  .refine((s) => (s.instances !== undefined) !== s.all_instances, {
    message: 'name instances or choose all_instances, not both and not neither',
  });

export const purgeSpecSchema = z.object({
  scope: purgeScopeSchema,
  filters: z.object({
    older_than: z
      .string()
      .max(40)
      .refine((v) => isDuration(v), 'must be a duration like 12h or 30d')
      .optional(),
    statuses: z.array(z.enum(FINAL_STATUSES)).min(1),
    names: z.array(z.string().max(200)),
    exclude_instances: z.array(z.string().max(64)),
  }),
  max: z.number().int().min(1).max(MAX_MAX_DELETIONS),
  /** After the run's jobs end, list the instances again and report tasks still there. */
  verify: z.boolean().optional(),
});

export type PurgeScope = z.infer<typeof purgeScopeSchema>;
/** Everything that decides what a purge selects. */
export type PurgeSpec = {
  scope: PurgeScope;
  filters: PurgeFilters;
  max: number;
  verify?: boolean | undefined;
};

/** A selection with what the listing saw. */
export interface PurgeListing extends PurgeSelection {
  inventory: InventoryStats;
}

export interface SelectOptions {
  now: Date;
  /** Instances listed at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** One scope of a purge across accounts, with the lister of its account. */
export interface ScopePart {
  scope: PurgeScope;
  lister: TaskLister;
}

/** Lists the scope and plans the purge. Throws DcsRequestError when a list call fails. */
export async function selectPurge(
  lister: TaskLister,
  spec: PurgeSpec,
  options: SelectOptions,
): Promise<PurgeListing> {
  return selectPurgeAcross([{ scope: spec.scope, lister }], spec, options);
}

/**
 * Lists several scopes (`purge --all-accounts`: every project of every account), one after the
 * other, into one planner: one guard (`spec.max`) across the whole run. `spec.scope` is ignored.
 */
export async function selectPurgeAcross(
  parts: readonly ScopePart[],
  spec: PurgeSpec,
  options: SelectOptions,
): Promise<PurgeListing> {
  const stats: PurgeListing['inventory'] = { instances: 0, instancesGone: [] };
  async function* all(): AsyncGenerator<ListedTask> {
    for (const part of parts) {
      const inventory = listScope(part.lister, part.scope, spec.filters, options);
      yield* inventory.tasks;
      stats.instances += inventory.stats.instances;
      stats.instancesGone.push(...inventory.stats.instancesGone);
    }
  }
  const selection = await planPurge(all(), {
    filters: spec.filters,
    max: spec.max,
    now: options.now,
    isValidId,
  });
  return { ...selection, inventory: stats };
}

function listScope(
  lister: TaskLister,
  scope: PurgeScope,
  filters: PurgeFilters,
  options: SelectOptions,
): ReturnType<typeof streamInventory> {
  return streamInventory(
    lister,
    {
      projectId: scope.project_id,
      instances: scope.all_instances ? undefined : scope.instances,
      excludeInstances: filters.exclude_instances,
      createdBefore: buildCreatedBefore(filters, options.now),
    },
    {
      now: options.now,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
}

/** Validates a spec read from elsewhere (a schedule's job data); INVALID_INPUT naming the fields. */
export function parsePurgeSpec(value: unknown, where = 'spec'): PurgeSpec {
  const result = purgeSpecSchema.safeParse(value);
  if (result.success) return result.data;
  const parts = result.error.issues.map((i) => `${where}.${i.path.join('.')}: ${i.message}`);
  throw new CleanupError('INVALID_INPUT', parts.join('; '), {
    field: result.error.issues.map((i) => `${where}.${i.path.join('.')}`).join(','),
  });
}

function isDuration(text: string): boolean {
  try {
    parseDuration(text, 'older_than');
    return true;
  } catch {
    return false;
  }
}
