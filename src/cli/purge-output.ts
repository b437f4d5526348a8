import { describeMatches, type PlannedTask } from '../purge/plan-purge.js';
import type { PurgeListing, PurgeSpec } from '../purge/select-purge.js';
import { describeSpec } from './purge-options.js';

interface Out {
  write(text: string): unknown;
}

/** What the listing saw and what it selected, in a few lines. */
export function printListing(out: Out, spec: PurgeSpec, listing: PurgeListing): void {
  const { counts, inventory } = listing;
  const lines = [
    `scope: ${describeSpec(spec)}`,
    `listed ${counts.listed} task(s) on ${inventory.instances} instance(s); ${counts.matched} matched`,
  ];
  if (counts.unfinished > 0) {
    lines.push(
      `${counts.unfinished} more matched but are not finished (EXECUTING, WAITING, CREATED): never deleted`,
    );
  }
  if (counts.skipped > 0) lines.push(`${counts.skipped} matched but have ids a job cannot carry: skipped`);
  if (inventory.instancesGone.length > 0) {
    lines.push(`instance(s) not found (nothing listed): ${inventory.instancesGone.join(', ')}`);
  }
  out.write(`${lines.join('\n')}\n`);
}

/** The guard's refusal, with where the matches are. */
export function printGuardStop(out: Out, listing: PurgeListing): void {
  const lines = [
    `guard: ${listing.counts.matched} task(s) matched, more than --max ${listing.guard.max}: nothing was enqueued`,
    'narrow the filters, or raise --max after reviewing with --dry-run; matches by instance:',
    ...describeMatches(listing).map((l) => `  ${l}`),
  ];
  out.write(`${lines.join('\n')}\n`);
}

/** One line per task: instance, task, name, status, created_at. */
export function printPlannedTasks(out: Out, tasks: Iterable<PlannedTask>): void {
  for (const t of tasks)
    out.write(`${t.instance_id}  ${t.task_id}  ${t.name}  ${t.status}  ${t.created_at}\n`);
}
