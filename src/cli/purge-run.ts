/**
 * The enqueueing half of `purge` and `purge apply`: put the selected tasks in the queue under one
 * run id, optionally follow every job to its end, then print the summary, write the report and
 * return the exit code.
 */
import type { Queue } from 'bullmq';
import { createApp, pingRedis, type App } from '../app.js';
import type { Config } from '../config/config.js';
import { CleanupError } from '../errors.js';
import { parseDuration } from '../purge/duration.js';
import { createLogger } from '../observability/logger.js';
import type { PlannedTask, PlannedTasks, SkippedTask } from '../purge/plan-purge.js';
import type { StillPresentTask } from '../purge/verify-purge.js';
import {
  countOutcomes,
  decideRunExit,
  describeSummary,
  reportSkipped,
  type OutcomeCounts,
  type RunHeader,
  type TaskReport,
} from '../purge/run-report.js';
import type { EnqueuePurge } from '../purge/purge-use-case.js';
import { enqueueSelection, jobIdsOf, type EnqueueSelectionResult } from '../queue/enqueue-selection.js';
import { buildJobId } from '../queue/job-contract.js';
import { followRun, type JobEnd } from '../queue/run-tracker.js';
import { createProgressPrinter, type ProgressStream } from './purge-progress.js';
import { recordEnqueue, verifyCliRun, type CliRun } from './run-recording.js';
import { EXIT_CODES } from './run-command.js';
import { writeJsonFile } from './write-json-file.js';

export { describeSummary, type RunHeader } from '../purge/run-report.js';

export interface OutputStreams {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

/** What `purge` and `purge apply` need from the outside world (tests pass their own). */
export interface PurgeDeps extends OutputStreams {
  config: Config;
  now: () => Date;
  /** Whether a person can answer the confirmation prompt. */
  interactive: boolean;
  confirm: (question: string) => Promise<boolean>;
  /** `user@host`, recorded in plans. */
  createdBy: string;
}

/** Flags of every run that enqueues. */
export interface RunFlags {
  yes?: boolean;
  wait?: boolean;
  waitTimeout?: string;
  report?: string;
  verify?: boolean;
}

/**
 * Usage checks of a run, before any call: `--wait-timeout` needs `--wait`, and a run that enqueues
 * needs `--yes` or a terminal to ask on. Returns the wait timeout in ms.
 */
export function checkRunFlags(flags: RunFlags, enqueues: boolean, interactive: boolean): number | undefined {
  if (!enqueues && (flags.wait || flags.report !== undefined || flags.yes)) {
    throw usageError(
      '--wait, --report and --yes apply to a run that enqueues; --dry-run and --out enqueue nothing',
      'wait',
    );
  }
  if (flags.waitTimeout !== undefined && !flags.wait)
    throw usageError('--wait-timeout needs --wait', 'wait-timeout');
  if (flags.verify && !flags.wait)
    throw usageError('--verify needs --wait (it runs once the jobs ended)', 'verify');
  if (enqueues && !flags.yes && !interactive) {
    throw usageError(
      'refusing to delete without confirmation: not a terminal, so pass --yes (review first with --dry-run or --out plan.json)',
      'yes',
    );
  }
  return flags.waitTimeout === undefined ? undefined : parseDuration(flags.waitTimeout, '--wait-timeout');
}

/** True with --yes; otherwise asks, and says so when the answer is no. */
export async function confirmRun(deps: PurgeDeps, flags: RunFlags, question: string): Promise<boolean> {
  if (flags.yes) return true;
  const confirmed = await deps.confirm(question);
  if (!confirmed) deps.stdout.write('aborted: nothing was enqueued\n');
  return confirmed;
}

/** The guard's exit: the report (when asked for) says what matched; nothing was enqueued. */
export async function stopAtGuard(
  header: RunHeader,
  matched: number,
  reportPath: string | undefined,
): Promise<number> {
  if (reportPath !== undefined) {
    await writeJsonFile(reportPath, {
      ...header,
      guard: { max: header.max, stopped: true, matched },
      exit_code: EXIT_CODES.guardStopped,
      tasks: [],
    });
  }
  return EXIT_CODES.guardStopped;
}

export interface EnqueueRunInput {
  header: RunHeader;
  tasks: PlannedTasks;
  skipped: readonly SkippedTask[];
  wait: boolean;
  waitTimeoutMs?: number | undefined;
  pollMs?: number | undefined;
  reportPath?: string | undefined;
  /** The verification pass (--verify), run after the wait. */
  verify?: (() => Promise<StillPresentTask[]>) | undefined;
}

/**
 * The queue side of a CLI run: `enqueue` (the purge use case's) makes the app, checks Redis and
 * enqueues; `finish` follows (with --wait), prints the summary, writes the report and returns the
 * exit code; `close` closes the app, if one was made.
 */
export interface RunSession {
  enqueue: EnqueuePurge<EnqueueSelectionResult>;
  finish(input: EnqueueRunInput, enqueued: EnqueueSelectionResult): Promise<number>;
  close(): Promise<void>;
}

/**
 * A session whose app is made on the first enqueue (after the confirmation, as the run needs it);
 * the run is recorded in the run ledger as `run` says.
 */
export function openRunSession(
  config: Config,
  out: OutputStreams,
  keepDuplicateIds: boolean,
  run: CliRun,
): RunSession {
  let app: App | undefined;
  let started = 0;
  return {
    async enqueue(tasks, labels) {
      started = Date.now();
      const made = createApp(config, { role: 'producer', logger: createLogger({ level: 'silent' }) });
      app = made;
      await pingRedis(made.connection);
      return recordEnqueue(made, run, labels.runId, tasks.length, () =>
        enqueueSelection(made.producer(), tasks, { ...labels, keepDuplicateIds }),
      );
    },
    async finish(input, enqueued) {
      if (app === undefined) throw new Error('finish before enqueue');
      const made = app;
      const verify = run.verify
        ? () => verifyCliRun(made, input.header.run_id, input.header.region ?? undefined)
        : undefined;
      return finishRun(made.producer().queues(), out, { ...input, verify }, enqueued, started);
    },
    async close() {
      await app?.close();
    },
  };
}

async function finishRun(
  queues: Queue[],
  out: OutputStreams,
  input: EnqueueRunInput,
  enqueued: EnqueueSelectionResult,
  started: number,
): Promise<number> {
  const { header, tasks } = input;
  const queued = `enqueued ${enqueued.enqueued}, already queued ${enqueued.duplicates}`;
  out.stdout.write(`run ${header.run_id}: ${queued} (followed as part of this run)\n`);
  const ends =
    input.wait && tasks.length > 0 ? await followJobs(queues, input, out) : new Map<string, JobEnd>();
  // Counted without a report object per task: those are made only for --report.
  const counts = countRunOutcomes(tasks, input.skipped, ends);
  const selected = tasks.length + input.skipped.length;
  const still = input.verify && counts.pending === 0 ? await input.verify() : undefined;
  const decided = EXIT_CODES[decideRunExit({ guardStopped: false, counts, waited: input.wait })];
  const exit =
    decided === EXIT_CODES.ok && still !== undefined && still.length > 0 ? EXIT_CODES.failure : decided;
  const durationMs = Date.now() - started;
  out.stdout.write(`${describeSummary(header.run_id, selected, counts, durationMs, input.wait)}\n`);
  if (still !== undefined) out.stdout.write(`${describeVerification(still)}\n`);
  if (counts.dead_lettered > 0)
    out.stdout.write('some tasks ended in the dead letters: see `dcs-cleanup dlq list`\n');
  if (input.reportPath !== undefined) {
    // One line per task, made as the file is written.
    const reports = function* (): Generator<TaskReport> {
      for (const task of tasks) yield toTaskReport(task, ends, enqueued.duplicateIds);
      yield* input.skipped.map(reportSkipped);
    };
    const totals = {
      selected,
      enqueued: enqueued.enqueued,
      duplicates: enqueued.duplicates,
      ...counts,
      ...(still === undefined ? {} : { still_present: still.length }),
    };
    await writeJsonFile(input.reportPath, {
      ...header,
      finished_at: new Date().toISOString(),
      duration_ms: durationMs,
      waited: input.wait,
      guard: { max: header.max, stopped: false },
      counts: totals,
      exit_code: exit,
      ...(still === undefined ? {} : { still_present: still }),
      tasks: reports(),
    });
  }
  return exit;
}

/** Polls the run's jobs to their end (or the timeout), drawing progress on stderr. */
async function followJobs(
  queues: Queue[],
  input: EnqueueRunInput,
  out: OutputStreams,
): Promise<Map<string, JobEnd>> {
  const printer = createProgressPrinter(out.stderr);
  const [queue, ...otherQueues] = queues as [Queue, ...Queue[]];
  const followed = await followRun({
    queue,
    otherQueues,
    jobIds: jobIdsOf(input.tasks),
    onProgress: (p) => printer.update(p),
    ...(input.waitTimeoutMs === undefined ? {} : { timeoutMs: input.waitTimeoutMs }),
    ...(input.pollMs === undefined ? {} : { pollMs: input.pollMs }),
  });
  printer.finish(followed.progress);
  return followed.ends;
}

/** A run's outcomes by count: an enqueued task's is its job's end (pending without one). */
export function countRunOutcomes(
  tasks: PlannedTasks,
  skipped: readonly SkippedTask[],
  ends: ReadonlyMap<string, JobEnd>,
): OutcomeCounts {
  const counts = countOutcomes([]);
  counts.skipped = skipped.length;
  if (ends.size === 0) counts.pending = tasks.length;
  else for (const task of tasks) counts[ends.get(buildJobId(task))?.outcome ?? 'pending'] += 1;
  return counts;
}

function toTaskReport(task: PlannedTask, ends: Map<string, JobEnd>, duplicates: Set<string>): TaskReport {
  const jobId = buildJobId(task);
  const end = ends.get(jobId);
  const report: TaskReport = { ...task, job_id: jobId, outcome: end?.outcome ?? 'pending' };
  if (duplicates.has(jobId)) report.duplicate = true;
  const result = end?.result;
  if (result) {
    report.http_status = result.http_status;
    report.error_code = result.error_code;
    report.request_id = result.request_id;
    report.attempts = result.attempts;
    if (result.reason !== undefined) report.reason = result.reason;
    if (result.dead_letter_id !== undefined) report.dead_letter_id = result.dead_letter_id;
  } else if (end?.note !== undefined) {
    report.reason = end.note;
  }
  return report;
}

/** The verification's line: nothing left, or how many tasks DCS still lists (a few named). */
function describeVerification(still: readonly StillPresentTask[]): string {
  if (still.length === 0) return 'verify: no deleted task is listed any more';
  const named = still.slice(0, 5).map((t) => `${t.instance_id}/${t.task_id}`);
  const more = still.length > named.length ? ` and ${still.length - named.length} more` : '';
  return `verify: ${still.length} task(s) still present after the run: ${named.join(', ')}${more}`;
}

function usageError(message: string, field: string): CleanupError {
  return new CleanupError('INVALID_INPUT', message, { field });
}
