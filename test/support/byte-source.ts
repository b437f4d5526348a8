import { Readable } from 'node:stream';

/** A byte stream yielding `chunks` one by one, as a file or stdin stream would. */
export function fromChunks(...chunks: (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  return Readable.from(
    chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)),
  );
}

/** `text` as a source of chunks of `size` bytes (1 splits every multi-byte character). */
export function inPieces(text: string | Uint8Array, size: number): AsyncIterable<Uint8Array> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return fromChunks(...pieces);
}

/** Everything an async iterable yields, in order. */
export async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
