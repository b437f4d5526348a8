/**
 * Plan and report files, written piece by piece. A report of a million tasks is about 500 MB of
 * JSON: as one string it would need that much memory on top of the report objects, and V8 refuses
 * strings past ~512 MB. Here the text is produced and written a few KiB at a time, and a list may be
 * an iterator (a generator of report lines), so the lines need not all exist at once either.
 */
import { open, rename, rm } from 'node:fs/promises';

const WRITE_CHUNK_CHARS = 64 * 1024;

/**
 * Writes `JSON.stringify(value, null, 2)` and a newline to `path` through a temporary file (mode
 * 0600), so a reader never sees half a file; the temporary file is removed when writing fails.
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const file = await open(tmp, 'w', 0o600);
  try {
    let pending = '';
    for (const piece of jsonChunks(value)) {
      pending += piece;
      if (pending.length >= WRITE_CHUNK_CHARS) {
        await file.write(pending);
        pending = '';
      }
    }
    await file.write(`${pending}\n`);
    await file.close();
    await rename(tmp, path);
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The text of `JSON.stringify(value, null, 2)`, in pieces. Arrays are written item by item, and so
 * is an iterator (a generator) wherever it appears, as if it were the array of what it yields;
 * objects key by key; everything else (strings, numbers, objects with toJSON such as Date) as
 * JSON.stringify writes it.
 */
export function* jsonChunks(value: unknown, indent = ''): Generator<string> {
  if (typeof value !== 'object' || value === null || hasToJson(value) || isBoxedPrimitive(value)) {
    const text = JSON.stringify(value, null, 2) as string | undefined;
    yield text === undefined ? 'null' : text.replaceAll('\n', `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  let first = true;
  if (Array.isArray(value) || isIterator(value)) {
    for (const item of value as Iterable<unknown>) {
      yield `${first ? '[' : ','}\n${inner}`;
      first = false;
      yield* jsonChunks(isSkipped(item) ? null : item, inner);
    }
    yield first ? '[]' : `\n${indent}]`;
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (isSkipped(item)) continue;
    yield `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `;
    first = false;
    yield* jsonChunks(item, inner);
  }
  yield first ? '{}' : `\n${indent}}`;
}

/** Values JSON.stringify leaves out of an object (and writes as null in an array). */
function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function hasToJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

function isBoxedPrimitive(value: object): boolean {
  return value instanceof Number || value instanceof String || value instanceof Boolean;
}

function isIterator(value: object): boolean {
  const candidate = value as { next?: unknown; [Symbol.iterator]?: unknown };
  return typeof candidate.next === 'function' && typeof candidate[Symbol.iterator] === 'function';
}
