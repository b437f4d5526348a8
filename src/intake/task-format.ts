import { extname } from 'node:path';
import { CleanupError } from '../errors.js';
import type { TaskFormat } from './task-record.js';

const BY_EXTENSION: Readonly<Record<string, TaskFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** The format a file name implies (`.csv`, `.jsonl`, `.ndjson`, any case), or undefined. */
export function detectFormatFromPath(path: string): TaskFormat | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()];
}

/** Skipped before the first meaningful character: ASCII whitespace and a UTF-8 byte-order mark. */
const LEADING = new Set([0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf]);
/** Bytes looked at before giving up and calling the input CSV. */
const MAX_SNIFF_BYTES = 64 * 1024;

export interface SniffedSource {
  format: TaskFormat;
  /** The same bytes, from the start (the sniffed chunks are replayed). */
  source: AsyncIterable<Uint8Array>;
}

/**
 * Tells the format of an input without a name (stdin) from its first non-blank character:
 * `{` is JSON Lines, anything else CSV. A `[` is refused: a JSON array is not JSON Lines.
 */
export async function sniffFormat(input: AsyncIterable<Uint8Array | string>): Promise<SniffedSource> {
  const iterator = input[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  let seenBytes = 0;
  let first: number | undefined;
  while (first === undefined && seenBytes < MAX_SNIFF_BYTES) {
    const next = await iterator.next();
    if (next.done === true) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    seen.push(chunk);
    seenBytes += chunk.length;
    first = chunk.find((byte) => !LEADING.has(byte));
  }
  if (first === 0x5b) {
    await iterator.return?.();
    throw new CleanupError(
      'INVALID_INPUT',
      'the input is a JSON array: write one object per line (JSON Lines), e.g. jq -c ".[]" tasks.json',
    );
  }
  return { format: first === 0x7b ? 'jsonl' : 'csv', source: replay(seen, iterator) };
}

async function* replay(
  seen: Uint8Array[],
  rest: AsyncIterator<Uint8Array | string>,
): AsyncGenerator<Uint8Array> {
  try {
    yield* seen;
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) {
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  } finally {
    await rest.return?.();
  }
}
