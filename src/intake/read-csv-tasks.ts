import { Readable, pipeline } from 'node:stream';
import { CsvError, parse, type Info } from 'csv-parse';
import { CleanupError, isCleanupError } from '../errors.js';
import { parseTaskInput } from '../queue/job-contract.js';
import { inputError, quoteForMessage } from './input-error.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  readLineBlocks,
  type LineBlock,
  type LineBlockOptions,
} from './line-blocks.js';
import { REQUIRED_TASK_FIELDS, TASK_FIELDS, type TaskRecord } from './task-record.js';

type Header = readonly string[];
const KNOWN_COLUMNS: ReadonlySet<string> = new Set(TASK_FIELDS);
const HEADER_HINT = `the first line must be a header naming ${REQUIRED_TASK_FIELDS.join(', ')} and optionally region and account, in any order`;

/**
 * Reads CSV whose first non-blank line is a header of the task fields, in any order (names are
 * trimmed and case-insensitive; an unknown name is an error, so a typo is never ignored).
 * Fields are trimmed, blank lines skipped, an empty region means none. A row with the wrong
 * number of fields or an invalid value is yielded as an error record. Thrown as INVALID_INPUT:
 * a bad header, malformed CSV (a stray quote: the parser cannot find the next row reliably after
 * one), what readLineBlocks rejects, and an input with no data row.
 *
 * Two readers give the same records: blocks of plain lines (printable ASCII, no quote, `\n` or
 * `\r\n` ends: every task file a script writes) are split directly, at a sixth of csv-parse's
 * cost; from the first block that holds anything else, csv-parse reads the rest of the input.
 */
export async function* readCsvTasks(
  source: AsyncIterable<Uint8Array | string>,
  options: CsvReadOptions = {},
): AsyncGenerator<TaskRecord> {
  const blocks = readLineBlocks(source, options)[Symbol.asyncIterator]();
  let header: Header | undefined;
  let rows = 0;
  let lineOffset = 0;
  try {
    for (let step = await blocks.next(); !step.done; step = await blocks.next()) {
      const block = step.value;
      if (options.csvParseOnly === true || NOT_PLAIN.test(block.text)) {
        lineOffset = block.firstLine - 1;
        for await (const { record, line } of parseWithCsvParse(block, blocks, lineOffset, options)) {
          if (header === undefined) header = parseHeader(record, line);
          else {
            rows++;
            yield parseRow(record, line, header);
          }
        }
        break;
      }
      for (const { record, line } of splitPlainLines(block)) {
        if (header === undefined) header = parseHeader(record, line);
        else {
          rows++;
          yield parseRow(record, line, header);
        }
      }
    }
  } catch (err) {
    throw toInputError(err, lineOffset);
  } finally {
    await blocks.return?.(undefined);
  }
  if (header === undefined) throw new CleanupError('INVALID_INPUT', 'no tasks: the input is empty');
  if (rows === 0) throw new CleanupError('INVALID_INPUT', 'no tasks: the input has a header but no rows');
}

export interface CsvReadOptions extends LineBlockOptions {
  /** Read the whole input with csv-parse (the tests compare both readers with it). */
  csvParseOnly?: boolean;
}

/**
 * What the plain reader leaves to csv-parse: a quote, a `\r` not ending a line, and any character
 * besides printable ASCII, tab and newline (csv-parse's trimming of other white space is its own).
 */
const NOT_PLAIN = /[^\t\n\r\x20-\x21\x23-\x7e]|\r(?!\n)/;

/** The records of a block of plain lines, as csv-parse would give them (see readCsvTasks). */
function* splitPlainLines(block: LineBlock): Generator<{ record: string[]; line: number }> {
  const { text } = block;
  let line = block.firstLine;
  for (let start = 0; start < text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    const content = text.slice(start, end);
    start = next;
    // Blank and white-space-only lines are skipped, as csv-parse does with trim and skip_empty_lines.
    if (content.trim() === '') continue;
    const record = content.split(',');
    for (let i = 0; i < record.length; i++) record[i] = record[i]!.trim();
    yield { record, line };
  }
}

const CR = 0x0d;

/** csv-parse over `first` and the blocks after it; lines numbered from `lineOffset` + 1. */
async function* parseWithCsvParse(
  first: LineBlock,
  rest: AsyncIterator<LineBlock>,
  lineOffset: number,
  options: LineBlockOptions,
): AsyncGenerator<{ record: string[]; line: number }> {
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
  async function* texts(): AsyncGenerator<string> {
    yield first.text;
    for (let step = await rest.next(); !step.done; step = await rest.next()) yield step.value.text;
  }
  // Errors of either stream reach the loop below through the parser, which pipeline destroys.
  pipeline(Readable.from(texts()), parser, () => {});
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
    yield { record, line: lineOffset + firstLineOf(record, info.lines) };
  }
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
    if ((name !== 'region' && name !== 'account') || value !== '') fields[name] = value;
  });
  try {
    return { ok: true, line, task: parseTaskInput(fields, `line ${line}:`) };
  } catch (err) {
    if (isCleanupError(err)) return { ok: false, line, error: err };
    throw err;
  }
}

/** A csv-parse error as INVALID_INPUT on the input's own line (csv-parse counts from `lineOffset`). */
function toInputError(err: unknown, lineOffset: number): unknown {
  if (!(err instanceof CsvError)) return err;
  const lines: unknown = (err as { lines?: unknown }).lines;
  // csv-parse names lines in its message too, counted from where it started.
  const message = err.message.replace(/\bline (\d+)\b/g, (_, n: string) => `line ${Number(n) + lineOffset}`);
  const problem = `malformed CSV: ${message}`;
  return typeof lines === 'number'
    ? inputError(lineOffset + lines, problem)
    : new CleanupError('INVALID_INPUT', problem);
}
