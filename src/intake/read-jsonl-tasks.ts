import { CleanupError, isCleanupError } from '../errors.js';
import { parseTaskInput } from '../queue/job-contract.js';
import { inputError, quoteForMessage } from './input-error.js';
import { readLineBlocks, type LineBlockOptions } from './line-blocks.js';
import { TASK_FIELDS, type TaskRecord } from './task-record.js';

const KNOWN_KEYS: ReadonlySet<string> = new Set(TASK_FIELDS);

/**
 * Reads JSON Lines: one object `{"project_id","instance_id","task_id","region"?}` per line.
 * Blank lines are skipped; a line that is not such an object (bad JSON, an unknown key,
 * an invalid value) is yielded as an error record, since the next line stands on its own.
 * Throws INVALID_INPUT for what makes the whole input unreadable (see readLineBlocks) and
 * when the input holds no task line at all.
 */
export async function* readJsonlTasks(
  source: AsyncIterable<Uint8Array | string>,
  options: LineBlockOptions = {},
): AsyncGenerator<TaskRecord> {
  let seen = 0;
  for await (const block of readLineBlocks(source, options)) {
    const lines = block.text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const [offset, text] of lines.entries()) {
      if (text.trim() === '') continue;
      seen++;
      yield parseJsonLine(text, block.firstLine + offset);
    }
  }
  if (seen === 0) throw new CleanupError('INVALID_INPUT', 'no tasks: the input has no JSON line');
}

function parseJsonLine(text: string, line: number): TaskRecord {
  try {
    return { ok: true, line, task: parseTaskInput(toTaskFields(text, line), `line ${line}:`) };
  } catch (err) {
    if (isCleanupError(err)) return { ok: false, line, error: err };
    throw err;
  }
}

function toTaskFields(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw inputError(line, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw inputError(
      line,
      'expected a JSON object with project_id, instance_id, task_id and optionally region',
    );
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !KNOWN_KEYS.has(key));
  if (unknown !== undefined) {
    throw inputError(line, `unknown key (expected ${TASK_FIELDS.join(', ')})`, quoteForMessage(unknown));
  }
  // Exports from databases write a missing region as null: that means "no region", not an error.
  if (fields.region === null) delete fields.region;
  return fields;
}
