import type { LineBlockOptions } from './line-blocks.js';
import { readCsvTasks } from './read-csv-tasks.js';
import { readJsonlTasks } from './read-jsonl-tasks.js';
import type { TaskFormat, TaskRecord } from './task-record.js';

/**
 * Streams the task lines of `source` in `format`, one record per data line, in order.
 * Per-line problems come back as `{ ok: false }` records; a problem with the input as a whole
 * (unreadable header, malformed CSV, binary data, invalid UTF-8, an over-long line, no task at all)
 * is thrown as INVALID_INPUT. Nothing is buffered beyond one line and one parser chunk.
 */
export function readTasks(
  source: AsyncIterable<Uint8Array | string>,
  format: TaskFormat,
  options: LineBlockOptions = {},
): AsyncGenerator<TaskRecord> {
  return format === 'csv' ? readCsvTasks(source, options) : readJsonlTasks(source, options);
}
