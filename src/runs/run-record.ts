/**
 * A run's record as the ledger keeps it (one Redis hash per run) and as the CLI and the API show it.
 * Every purge, plan apply, scheduled firing and API batch is a run; see run-ledger.ts for the keys.
 *
 *   state     listing -> enqueued -> running -> finished; or cancelled (by `runs cancel`), or failed
 *             (the listing or the enqueue threw; nothing more will happen)
 *   counts    selected, enqueued (new jobs carrying this run id), duplicates (tasks already queued by
 *             another run: counted there), deleted, already_gone, dead_lettered, cancelled (waiting
 *             jobs removed by a cancel), pending (enqueued jobs not ended yet), still_present (after
 *             a verification pass)
 */
import { z } from 'zod';

export const RUN_STATES = ['listing', 'enqueued', 'running', 'finished', 'cancelled', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];
/** States after which nothing changes but late job ends and the verification. */
export const FINAL_RUN_STATES: ReadonlySet<RunState> = new Set(['finished', 'cancelled', 'failed']);

export const RUN_KINDS = ['purge', 'apply', 'schedule', 'api-purge', 'api-batch'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** What a run id looks like (the job contract's `run_id`): one rule, in purge/run-id.ts. */
export { RUN_ID_PATTERN } from '../purge/run-id.js';

/** How a job of a run ended, as the ledger counts it. */
export type RunJobOutcome = 'deleted' | 'already_gone' | 'dead_lettered' | 'cancelled';

export const runCountsSchema = z.object({
  selected: z.number().int(),
  enqueued: z.number().int(),
  duplicates: z.number().int(),
  deleted: z.number().int(),
  already_gone: z.number().int(),
  dead_lettered: z.number().int(),
  cancelled: z.number().int(),
  pending: z.number().int(),
  still_present: z.number().int().optional().meta({ description: 'Set once a verification pass ran.' }),
});
export type RunCounts = z.infer<typeof runCountsSchema>;

export const runRecordSchema = z.object({
  run_id: z.string(),
  kind: z.enum(RUN_KINDS),
  started_by: z.string().meta({ description: 'CLI user@host, `schedule <name>` or `api <token label>`.' }),
  spec: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Scope, filters and guard.' }),
  verify: z.boolean(),
  state: z.enum(RUN_STATES),
  counts: runCountsSchema,
  created_at: z.string(),
  enqueued_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  error: z.string().nullable(),
  report: z
    .record(z.string(), z.unknown())
    .nullable()
    .meta({ description: 'Listing counts and, after a verification, the tasks still present.' }),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

/** Most still-present tasks a record lists (the count covers them all). */
export const MAX_LISTED_STILL_PRESENT = 100;

const COUNT_FIELDS = [
  'selected',
  'enqueued',
  'duplicates',
  'deleted',
  'already_gone',
  'dead_lettered',
  'cancelled',
] as const;

/** The record of a run's hash; undefined for a missing or foreign hash. */
export function readRunHash(hash: Record<string, string>): RunRecord | undefined {
  const kind = RUN_KINDS.find((k) => k === hash.kind);
  const state = RUN_STATES.find((s) => s === hash.state);
  if (hash.run_id === undefined || kind === undefined || state === undefined) return undefined;
  const n = (field: string): number => Number(hash[field] ?? 0) || 0;
  const counts = Object.fromEntries(COUNT_FIELDS.map((f) => [f, n(f)])) as Omit<RunCounts, 'pending'>;
  const ended = counts.deleted + counts.already_gone + counts.dead_lettered + counts.cancelled;
  return {
    run_id: hash.run_id,
    kind,
    started_by: hash.started_by ?? '',
    spec: parseObject(hash.spec),
    verify: hash.verify === '1',
    state,
    counts: {
      ...counts,
      pending: state === 'failed' ? 0 : Math.max(0, counts.enqueued - ended),
      ...(hash.still_present === undefined ? {} : { still_present: n('still_present') }),
    },
    created_at: hash.created_at ?? '',
    enqueued_at: hash.enqueued_at ?? null,
    finished_at: hash.finished_at ?? null,
    error: hash.error ?? null,
    report: parseObject(hash.report),
  };
}

function parseObject(raw: string | undefined): Record<string, unknown> | null {
  if (raw === undefined) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
