import { Readable, pipeline } from 'node:stream';
import { CsvError, parse, type Info } from 'csv-parse';
import { CleanupError, isCleanupError } from '../errors.js';
import { parseTaskInput } from '../queue/job-contract.js';
import { inputError, quoteForMessage } from './input-error.js';
import { DEFAULT_MAX_LINE_BYTES, readLineBlocks, type LineBlockOptions } from './line-blocks.js';
import { REQUIRED_TASK_FIELDS, TASK_FIELDS, type TaskRecord } from './task-record.js';

type Header = readonly string[];
const KNOWN_COLUMNS: ReadonlySet<string> = new Set(TASK_FIELDS);
const HEADER_HINT = `the first line must be a header naming ${REQUIRED_TASK_FIELDS.join(', ')} and optionally region, in any order`;

/**
 * Reads CSV whose first non-blank line is a header of the task fields, in any order (names are
 * trimmed and case-insensitive; an unknown name is an error, so a typo is never ignored).
 * Fields are trimmed, blank lines skipped, an empty region means none. A row with the wrong
 * number of fields or an invalid value is yielded as an error record. Thrown as INVALID_INPUT:
 * a bad header, malformed CSV (a stray quote: the parser cannot find the next row reliably after
 * one), what readLineBlocks rejects, and an input with no data row.
 */
export async function* readCsvTasks(
  source: AsyncIterable<Uint8Array | string>,
  options: LineBlockOptions = {},
): AsyncGenerator<TaskRecord> {
  const parser = parse({
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
    // Not auto-detected: detection locks onto the first line end, and a file mixing \n and \r\n
    // would then silently merge lines into one field.
    record_delimiter: ['\r\n', '\n'],
    // A quote left open would otherwise buffer the rest of the input into one record.
    max_record_size: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
  });
  // Errors of either stream reach the loop below through the parser, which pipeline destroys.
  pipeline(Readable.from(readTexts(source, options)), parser, () => {});
  let header: Header | undefined;
  let rows = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = firstLineOf(record, info.lines);
      if (header === undefined) {
        header = parseHeader(record, line);
        continue;
      }
      rows++;
      yield parseRow(record, line, header);
    }
  } catch (err) {
    throw toInputError(err);
  }
  if (header === undefined) throw new CleanupError('INVALID_INPUT', 'no tasks: the input is empty');
  if (rows === 0) throw new CleanupError('INVALID_INPUT', 'no tasks: the input has a header but no rows');
}

async function* readTexts(source: AsyncIterable<Uint8Array | string>, options: LineBlockOptions) {
  for await (const block of readLineBlocks(source, options)) yield block.text;
}

/** csv-parse reports the line a record ends on; a quoted field may span lines. */
function firstLineOf(record: string[], lastLine: number): number {
  let newlines = 0;
  for (const field of record)
    for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) newlines++;
  return lastLine - newlines;
}

function parseHeader(record: string[], line: number): Header {
  const names = record.map((name) => name.trim().toLowerCase());
  const problems: string[] = [];
  names.forEach((name, i) => {
    if (name === '') problems.push(`column ${i + 1} has no name (a trailing comma?)`);
    else if (!KNOWN_COLUMNS.has(name)) problems.push(`unknown column ${quoteForMessage(record[i] ?? name)}`);
    else if (names.indexOf(name) !== i) problems.push(`column ${name} appears twice`);
  });
  for (const required of REQUIRED_TASK_FIELDS) {
    if (!names.includes(required)) problems.push(`missing column ${required}`);
  }
  if (problems.length > 0) throw inputError(line, `${problems.join('; ')} (${HEADER_HINT})`, 'header');
  return names;
}

function parseRow(record: string[], line: number, header: Header): TaskRecord {
  if (record.length < header.length) {
    const missing = header.slice(record.length).join(', ');
    const problem = `missing (the line has ${record.length} fields, the header ${header.length})`;
    return { ok: false, line, error: inputError(line, problem, missing) };
  }
  if (record.length > header.length) {
    const problem = `${record.length - header.length} field(s) more than the header's ${header.length} columns`;
    return { ok: false, line, error: inputError(line, problem) };
  }
  const fields: Record<string, string> = {};
  header.forEach((name, i) => {
    const value = record[i] ?? '';
    if (name !== 'region' || value !== '') fields[name] = value;
  });
  try {
    return { ok: true, line, task: parseTaskInput(fields, `line ${line}:`) };
  } catch (err) {
    if (isCleanupError(err)) return { ok: false, line, error: err };
    throw err;
  }
}

function toInputError(err: unknown): unknown {
  if (!(err instanceof CsvError)) return err;
  const lines: unknown = (err as { lines?: unknown }).lines;
  const problem = `malformed CSV: ${err.message}`;
  return typeof lines === 'number' ? inputError(lines, problem) : new CleanupError('INVALID_INPUT', problem);
}
