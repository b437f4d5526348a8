/**
 * A task input read twice without holding it in memory: pass 1 (`validate`) checks every line,
 * pass 2 (`readValidTasks`) reads it again and yields the valid tasks. A regular file is simply
 * re-read (and must not change in between); stdin, a pipe or a FIFO is copied to a private temp
 * file during pass 1, which `close` removes.
 */
import { createReadStream, type Stats } from 'node:fs';
import { mkdtemp, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupError, isCleanupError } from '../errors.js';
import type { TaskInput } from '../queue/job-contract.js';
import type { LineBlockOptions } from './line-blocks.js';
import { readTasks } from './read-tasks.js';
import { detectFormatFromPath, sniffFormat } from './task-format.js';
import type { TaskFormat, TaskRecord } from './task-record.js';

export interface OpenTaskSourceOptions extends LineBlockOptions {
  /** A file path, or `-` for stdin. */
  path: string;
  /** Overrides detection (extension for a path, first non-blank character otherwise). */
  format?: TaskFormat;
  stdin: AsyncIterable<Uint8Array | string>;
  /** Per-line errors `validate` keeps (default 20); the rest are only counted. */
  maxErrors?: number;
  /** Where stdin is spooled (default the OS temp directory). */
  tmpDir?: string;
}

export interface ValidationReport {
  format: TaskFormat;
  valid: number;
  invalid: number;
  /** The first `maxErrors` per-line errors, in line order. */
  errors: CleanupError[];
}

export interface TaskSource {
  /** The path, or `stdin`, for messages. */
  readonly name: string;
  /** Pass 1: reads everything; throws INVALID_INPUT (prefixed with `name`) if the input is unreadable. */
  validate(): Promise<ValidationReport>;
  /** Pass 2: the valid tasks, read again. INVALID_INPUT if the input changed since `validate`. */
  readValidTasks(): AsyncGenerator<TaskInput>;
  /** Removes the spooled copy, if any. Safe to call at any time, more than once. */
  close(): Promise<void>;
}

/** Opens `options.path` (or stdin) for a two-pass read; INVALID_INPUT when it cannot be read. */
export async function openTaskSource(options: OpenTaskSourceOptions): Promise<TaskSource> {
  const isStdin = options.path === '-';
  const name = isStdin ? 'stdin' : options.path;
  const stats = isStdin ? undefined : await statInput(options.path);
  const rereadable = stats?.isFile() === true;
  let format = options.format ?? (isStdin ? undefined : detectFormatFromPath(options.path));
  if (format === undefined && rereadable) {
    throw new CleanupError(
      'INVALID_INPUT',
      `${name}: cannot tell the format from the extension: use --format csv|jsonl`,
      {
        field: 'format',
      },
    );
  }
  let spool: Spool | undefined;
  let report: ValidationReport | undefined;

  async function validate(): Promise<ValidationReport> {
    let input: AsyncIterable<Uint8Array | string> = isStdin ? options.stdin : createReadStream(options.path);
    try {
      if (format === undefined) ({ format, source: input } = await sniffFormat(input));
      if (!rereadable) {
        spool = await createSpool(options.tmpDir ?? tmpdir());
        input = spool.copy(input);
      }
      report = await summarize(readTasks(input, format, options), format, options.maxErrors ?? 20);
      await spool?.finish();
      return report;
    } catch (err) {
      throw withName(err, name);
    }
  }

  async function* readValidTasks(): AsyncGenerator<TaskInput> {
    if (report === undefined || format === undefined) throw new Error('readValidTasks() before validate()');
    if (stats !== undefined && rereadable && hasChanged(stats, await statInput(options.path)))
      throw changed(name);
    let invalid = 0;
    try {
      for await (const record of readTasks(createReadStream(spool?.path ?? options.path), format, options)) {
        if (record.ok) yield record.task;
        else if (++invalid > report.invalid) throw changed(name);
      }
    } catch (err) {
      throw withName(err, name);
    }
  }

  return { name, validate, readValidTasks, close: async () => spool?.remove() };
}

async function summarize(
  records: AsyncIterable<TaskRecord>,
  format: TaskFormat,
  maxErrors: number,
): Promise<ValidationReport> {
  const report: ValidationReport = { format, valid: 0, invalid: 0, errors: [] };
  for await (const record of records) {
    if (record.ok) {
      report.valid++;
    } else {
      report.invalid++;
      if (report.errors.length < maxErrors) report.errors.push(record.error);
    }
  }
  return report;
}

async function statInput(path: string): Promise<Stats> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new CleanupError('INVALID_INPUT', `${path}: cannot read: ${reason}`, { field: 'file', cause: err });
  }
  if (stats.isDirectory())
    throw new CleanupError('INVALID_INPUT', `${path}: is a directory`, { field: 'file' });
  return stats;
}

function hasChanged(before: Stats, after: Stats): boolean {
  return before.size !== after.size || before.mtimeMs !== after.mtimeMs || before.ino !== after.ino;
}

function changed(name: string): CleanupError {
  return new CleanupError('INVALID_INPUT', `${name} changed after it was validated; enqueue a stable copy`);
}

function withName(err: unknown, name: string): unknown {
  if (!isCleanupError(err) || err.message.startsWith(`${name}:`) || err.message.startsWith(`${name} `))
    return err;
  return new CleanupError(err.code, `${name}: ${err.message}`, {
    field: err.field,
    details: err.details,
    cause: err,
  });
}

interface Spool {
  readonly path: string;
  /** Passes `source` through, writing every chunk to the spool file first. */
  copy(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array>;
  /** Flushes and closes the spool file (after pass 1 has read everything). */
  finish(): Promise<void>;
  remove(): Promise<void>;
}

async function createSpool(tmpDir: string): Promise<Spool> {
  const dir = await mkdtemp(join(tmpDir, 'dcs-cleanup-enqueue-'));
  const path = join(dir, 'input');
  let handle: FileHandle | undefined = await open(path, 'wx', 0o600);
  const closeHandle = async (): Promise<void> => {
    const h = handle;
    handle = undefined;
    await h?.close();
  };
  return {
    path,
    async *copy(source) {
      for await (const chunk of source) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        await writeAll(handle!, bytes);
        yield bytes;
      }
    },
    finish: closeHandle,
    async remove() {
      await closeHandle().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, offset);
    offset += bytesWritten;
  }
}
