import { describe, expect, it } from 'vitest';
import { readJsonlTasks } from '../../../src/intake/read-jsonl-tasks.js';
import type { TaskRecord } from '../../../src/intake/task-record.js';
import { drain, fromChunks, inPieces } from '../../support/byte-source.js';

const readJsonl = (text: string | Uint8Array, maxLineBytes?: number): Promise<TaskRecord[]> =>
  drain(readJsonlTasks(fromChunks(text), { maxLineBytes }));

const errorsOf = (records: TaskRecord[]) => records.flatMap((r) => (r.ok ? [] : [r.error.message]));

describe('readJsonlTasks', () => {
  it('reads one task object per line, with an optional region', async () => {
    const text = [
      '{"project_id":"p-1","instance_id":"i-1","task_id":"t-1","region":"ap-southeast-1"}',
      '{"task_id":"t-2","instance_id":"i-1","project_id":"p-1"}',
    ].join('\n');
    expect(await readJsonl(text)).toEqual([
      {
        ok: true,
        line: 1,
        task: { project_id: 'p-1', instance_id: 'i-1', task_id: 't-1', region: 'ap-southeast-1' },
      },
      { ok: true, line: 2, task: { project_id: 'p-1', instance_id: 'i-1', task_id: 't-2' } },
    ]);
  });

  it('handles a byte-order mark, CRLF, blank lines and surrounding spaces, counting every line', async () => {
    const text =
      '\uFEFF\r\n  {"project_id":"p","instance_id":"i","task_id":"a"}  \r\n\r\n\t\r\n{"project_id":"p","instance_id":"i","task_id":"b"}\r\n';
    const records = await readJsonl(text);
    expect(records.map((r) => [r.line, r.ok])).toEqual([
      [2, true],
      [5, true],
    ]);
    expect(await drain(readJsonlTasks(inPieces(text, 3)))).toEqual(records);
  });

  it('takes a null region as no region', async () => {
    const records = await readJsonl('{"project_id":"p","instance_id":"i","task_id":"t","region":null}\n');
    expect(records).toEqual([
      { ok: true, line: 1, task: { project_id: 'p', instance_id: 'i', task_id: 't' } },
    ]);
  });

  it('names the line and field of an invalid or missing value, and goes on', async () => {
    const records = await readJsonl(
      [
        '{"project_id":"p","instance_id":"i","task_id":"ok"}',
        '{"project_id":"p","instance_id":"i"}',
        '{"project_id":"p","instance_id":"i","task_id":42}',
        '{"project_id":"p/../x","instance_id":"i","task_id":"t"}',
        '{"project_id":"p","instance_id":"i","task_id":"ok2"}',
      ].join('\n'),
    );
    expect(errorsOf(records)).toEqual([
      expect.stringMatching(/^line 2: task_id: /),
      expect.stringMatching(/^line 3: task_id: /),
      'line 4: project_id: must be 1 to 64 letters, digits or "-"',
    ]);
    expect(records.map((r) => r.ok)).toEqual([true, false, false, false, true]);
  });

  it('rejects a line that is not JSON, or not an object', async () => {
    const records = await readJsonl('{"project_id":"p",\n[1,2]\n"t-1"\nnull\n');
    expect(errorsOf(records)).toEqual([
      expect.stringMatching(/^line 1: not valid JSON \(/),
      expect.stringMatching(/^line 2: expected a JSON object/),
      expect.stringMatching(/^line 3: expected a JSON object/),
      expect.stringMatching(/^line 4: expected a JSON object/),
    ]);
  });

  it('rejects an unknown key, so a typo is never ignored', async () => {
    const records = await readJsonl('{"project_id":"p","instance_id":"i","taks_id":"t"}\n');
    expect(records).toEqual([
      {
        ok: false,
        line: 1,
        error: expect.objectContaining({ code: 'INVALID_INPUT', field: 'line 1: "taks_id"' }),
      },
    ]);
    expect(errorsOf(records)[0]).toMatch(
      /^line 1: "taks_id": unknown key \(expected project_id, instance_id, task_id, region, account\)/,
    );
  });

  it('does not let a __proto__ key through', async () => {
    const records = await readJsonl(
      '{"project_id":"p","instance_id":"i","task_id":"t","__proto__":{"x":1}}\n',
    );
    expect(errorsOf(records)).toEqual([expect.stringMatching(/^line 1: "__proto__": unknown key/)]);
  });

  it('refuses an input without a JSON line', async () => {
    await expect(readJsonl('')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'no tasks: the input has no JSON line',
    });
    await expect(readJsonl('\n \r\n\t\n')).rejects.toThrow('no tasks');
  });

  it('stops at binary data, invalid UTF-8 and over-long lines, naming the line', async () => {
    const ok = '{"project_id":"p","instance_id":"i","task_id":"t"}\n';
    await expect(readJsonl(`${ok}{"a":"\0"}\n`)).rejects.toThrow(/^line 2: contains a NUL byte/);
    await expect(
      readJsonl(Buffer.concat([Buffer.from(ok), Buffer.from([0xc3, 0x28, 0x0a])])),
    ).rejects.toThrow('line 2: is not valid UTF-8');
    await expect(readJsonl(`${ok}${ok}{"task_id":"${'x'.repeat(500)}"}\n`, 256)).rejects.toThrow(
      /^line 3: is longer than 256 bytes/,
    );
  });
});
