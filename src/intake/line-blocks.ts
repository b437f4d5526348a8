import { isUtf8 } from 'node:buffer';
import type { CleanupError } from '../errors.js';
import { inputError } from './input-error.js';

/** Lines longer than this (bytes, terminator excluded) stop the read: a task line is under 250 bytes. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

export interface LineBlockOptions {
  maxLineBytes?: number;
}

/** Whole lines of decoded text: each ends with `\n` except, perhaps, the last line of the input. */
export interface LineBlock {
  text: string;
  /** 1-based number of the first line in `text`. */
  firstLine: number;
}

const NEWLINE = 0x0a;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Turns raw bytes into blocks of whole, checked lines, holding at most one incomplete line
 * (capped at `maxLineBytes`) between chunks, so memory stays flat whatever the input size.
 * Rejects with INVALID_INPUT naming the line: a line over the cap, a NUL byte, invalid UTF-8,
 * UTF-16. A UTF-8 byte-order mark at the very start is dropped.
 */
export async function* readLineBlocks(
  source: AsyncIterable<Uint8Array | string>,
  options: LineBlockOptions = {},
): AsyncGenerator<LineBlock> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let carry: Buffer = Buffer.alloc(0);
  let nextLine = 1;
  let atStart = true;
  for await (const chunk of source) {
    let bytes: Buffer = Buffer.concat([carry, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    if (atStart) {
      if (bytes.length < UTF8_BOM.length && UTF8_BOM.subarray(0, bytes.length).equals(bytes)) {
        carry = bytes; // too short to tell whether it is a byte-order mark yet
        continue;
      }
      bytes = stripByteOrderMark(bytes);
      atStart = false;
    }
    const end = bytes.lastIndexOf(NEWLINE) + 1;
    checkLineLengths(bytes, end, nextLine, maxLineBytes);
    carry = Buffer.from(bytes.subarray(end));
    if (end === 0) continue;
    const whole = bytes.subarray(0, end);
    yield { text: decodeLines(whole, nextLine), firstLine: nextLine };
    nextLine += countNewlines(whole);
  }
  if (atStart) carry = stripByteOrderMark(carry);
  if (carry.length > 0) yield { text: decodeLines(carry, nextLine), firstLine: nextLine };
}

function stripByteOrderMark(bytes: Buffer): Buffer {
  if (bytes.subarray(0, 3).equals(UTF8_BOM)) return bytes.subarray(3);
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    throw inputError(1, 'starts with a UTF-16 byte-order mark; save the file as UTF-8');
  }
  return bytes;
}

/** Checks every line ending before `end`, and the unfinished tail after it, against the cap. */
function checkLineLengths(bytes: Buffer, end: number, firstLine: number, maxLineBytes: number): void {
  let start = 0;
  let line = firstLine;
  while (start < end) {
    const newline = bytes.indexOf(NEWLINE, start);
    if (newline - start > maxLineBytes) throw tooLong(line, maxLineBytes);
    start = newline + 1;
    line++;
  }
  if (bytes.length - end > maxLineBytes) throw tooLong(line, maxLineBytes);
}

function decodeLines(bytes: Buffer, firstLine: number): string {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const line = firstLine + countNewlines(bytes.subarray(0, nul));
    throw inputError(line, 'contains a NUL byte: this looks like a binary file, not a task list');
  }
  if (!isUtf8(bytes)) throw inputError(findInvalidUtf8Line(bytes, firstLine), 'is not valid UTF-8');
  return bytes.toString('utf8');
}

function findInvalidUtf8Line(bytes: Buffer, firstLine: number): number {
  let start = 0;
  let line = firstLine;
  // A newline byte never occurs inside a multi-byte UTF-8 sequence, so lines can be checked one by one.
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    start = end + 1;
    line++;
  }
  return firstLine;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) count++;
  return count;
}

function tooLong(line: number, maxLineBytes: number): CleanupError {
  return inputError(
    line,
    `is longer than ${maxLineBytes} bytes: is this a task file with one task per line?`,
  );
}
