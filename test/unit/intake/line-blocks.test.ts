import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLineBlocks } from '../../../src/intake/line-blocks.js';
import { drain, fromChunks, inPieces } from '../../support/byte-source.js';

async function textOf(source: AsyncIterable<Uint8Array>, maxLineBytes?: number): Promise<string> {
  const blocks = await drain(readLineBlocks(source, { maxLineBytes }));
  return blocks.map((b) => b.text).join('');
}

describe('readLineBlocks', () => {
  it('yields whole lines only, numbering each block by its first line', async () => {
    const blocks = await drain(readLineBlocks(fromChunks('a\nb', 'c\nd\n', 'e')));
    expect(blocks).toEqual([
      { text: 'a\n', firstLine: 1 },
      { text: 'bc\nd\n', firstLine: 2 },
      { text: 'e', firstLine: 4 },
    ]);
  });

  it('drops a UTF-8 byte-order mark at the start, even split across chunks', async () => {
    expect(await textOf(fromChunks(Buffer.from([0xef]), Buffer.from([0xbb, 0xbf, 0x61, 0x0a])))).toBe('a\n');
    expect(await textOf(fromChunks('\uFEFFx,y\n'))).toBe('x,y\n');
  });

  it('keeps a byte-order mark that is not at the start (the id check rejects it later)', async () => {
    expect(await textOf(fromChunks('a\n\uFEFFb\n'))).toBe('a\n\uFEFFb\n');
  });

  it('keeps multi-byte characters intact when chunks split them', async () => {
    const text = 'zażółć\n日本語\n🙂\n';
    expect(await textOf(inPieces(text, 1))).toBe(text);
  });

  it('names the line that is longer than the cap, without waiting for its end', async () => {
    function* endless(): Generator<Uint8Array> {
      yield Buffer.from('ok\n');
      for (;;) yield Buffer.alloc(1024, 0x61);
    }
    await expect(textOf(Readable.from(endless()), 4096)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^line 2: is longer than 4096 bytes/),
    });
  });

  it('names a too-long line in the middle of one chunk', async () => {
    const text = `a\nb\n${'x'.repeat(100)}\nc\n`;
    await expect(textOf(fromChunks(text), 50)).rejects.toMatchObject({ field: 'line 3' });
    expect(await textOf(fromChunks(text), 100)).toBe(text);
  });

  it('rejects NUL bytes as binary data, naming the line', async () => {
    await expect(textOf(fromChunks('a\nb\nc\0d\n'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^line 3: contains a NUL byte/),
    });
  });

  it('rejects invalid UTF-8, naming the line', async () => {
    const latin1 = Buffer.from('ok\nstill ok\ncaf\xe9\n', 'latin1');
    await expect(textOf(fromChunks(latin1))).rejects.toMatchObject({ message: 'line 3: is not valid UTF-8' });
  });

  it('rejects a truncated multi-byte character at the very end', async () => {
    await expect(textOf(fromChunks('a\n', Buffer.from([0xe6, 0x97])))).rejects.toMatchObject({
      message: 'line 2: is not valid UTF-8',
    });
  });

  it('refuses UTF-16 with a hint to save as UTF-8', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n', 'utf16le')]);
    await expect(textOf(fromChunks(utf16))).rejects.toMatchObject({
      message: expect.stringContaining('UTF-16'),
    });
  });

  it('yields nothing for an empty input', async () => {
    expect(await drain(readLineBlocks(fromChunks()))).toEqual([]);
    expect(await drain(readLineBlocks(fromChunks('', '')))).toEqual([]);
  });
});
