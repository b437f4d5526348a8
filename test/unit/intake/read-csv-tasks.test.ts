import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsvTasks } from '../../../src/intake/read-csv-tasks.js';
import type { TaskRecord } from '../../../src/intake/task-record.js';
import { drain, fromChunks, inPieces } from '../../support/byte-source.js';

const readCsv = (text: string | Uint8Array, maxLineBytes?: number): Promise<TaskRecord[]> =>
  drain(readCsvTasks(fromChunks(text), { maxLineBytes }));

const errorsOf = (records: TaskRecord[]) => records.flatMap((r) => (r.ok ? [] : [r.error.message]));

describe('readCsvTasks', () => {
  it('reads the task columns in any order, with an optional region', async () => {
    const records = await readCsv(
      'task_id,region,instance_id,project_id\nt-1,cn-north-4,i-1,p-1\nt-2,,i-1,p-1\n',
    );
    expect(records).toEqual([
      {
        ok: true,
        line: 2,
        task: { project_id: 'p-1', instance_id: 'i-1', task_id: 't-1', region: 'cn-north-4' },
      },
      { ok: true, line: 3, task: { project_id: 'p-1', instance_id: 'i-1', task_id: 't-2' } },
    ]);
  });

  it('trims header names and matches them case-insensitively', async () => {
    const records = await readCsv(' Project_ID , INSTANCE_ID,Task_Id \np,i,t\n');
    expect(records).toEqual([
      { ok: true, line: 2, task: { project_id: 'p', instance_id: 'i', task_id: 't' } },
    ]);
  });

  it('handles a byte-order mark, CRLF line ends, quoted fields and spaces around fields', async () => {
    const text = '\uFEFFproject_id,instance_id,task_id\r\n"p-1", "i-1" ,t-1\r\n"p-1","i-1","t-2"\r\n';
    const records = await readCsv(text);
    expect(records.map((r) => (r.ok ? r.task.task_id : r.error.message))).toEqual(['t-1', 't-2']);
  });

  it('skips blank and whitespace-only lines but keeps counting them', async () => {
    const records = await readCsv('\n\nproject_id,instance_id,task_id\n\n   \np,i,t1\n\r\np,i,t2');
    expect(records.map((r) => r.line)).toEqual([6, 8]);
  });

  it('reads a file that mixes LF and CRLF line ends line by line', async () => {
    const records = await readCsv('project_id,instance_id,task_id\r\np,i,a\np,i,b\r\np,i,c\n');
    expect(records.map((r) => [r.line, r.ok && r.task.task_id])).toEqual([
      [2, 'a'],
      [3, 'b'],
      [4, 'c'],
    ]);
  });

  it('gives the same records whatever the chunking', async () => {
    const text = 'project_id,instance_id,task_id\r\np,i,"t1"\r\np,i,t2\r\n';
    const whole = await readCsv(text);
    expect(await drain(readCsvTasks(inPieces(text, 1)))).toEqual(whole);
    expect(await drain(readCsvTasks(inPieces(text, 7)))).toEqual(whole);
  });

  it('names the line and the field of an invalid value', async () => {
    const records = await readCsv('project_id,instance_id,task_id\np,i,ok\np,i,not ok!\np,i,\n');
    expect(errorsOf(records)).toEqual([
      'line 3: task_id: must be 1 to 64 letters, digits or "-"',
      'line 4: task_id: must be 1 to 64 letters, digits or "-"',
    ]);
    expect(records.map((r) => r.ok)).toEqual([true, false, false]);
    expect(records[1]).toMatchObject({ line: 3, error: { code: 'INVALID_INPUT', field: 'line 3: task_id' } });
  });

  it('reports a bad region with its line', async () => {
    const records = await readCsv('project_id,instance_id,task_id,region\np,i,t,CN_NORTH\n');
    expect(errorsOf(records)).toEqual(['line 2: region: must look like cn-north-4, got "CN_NORTH"']);
  });

  it('names the columns a short row is missing, as a line error', async () => {
    const records = await readCsv('project_id,instance_id,task_id,region\np,i\np,i,t,cn-north-4\n');
    expect(errorsOf(records)).toEqual([
      'line 2: task_id, region: missing (the line has 2 fields, the header 4)',
    ]);
    expect(records[1]?.ok).toBe(true);
  });

  it('rejects a row with more fields than the header, as a line error', async () => {
    const records = await readCsv('project_id,instance_id,task_id\np,i,t,extra\n');
    expect(errorsOf(records)).toEqual(["line 2: 1 field(s) more than the header's 3 columns"]);
  });

  it('refuses an unknown header column, so a typo is never ignored', async () => {
    await expect(readCsv('project_id,instance_id,taks_id\np,i,t\n')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'line 1: header',
      message: expect.stringMatching(/^line 1: header: unknown column "taks_id"; missing column task_id \(/),
    });
  });

  it('refuses extra header columns, duplicates and a trailing comma', async () => {
    await expect(readCsv('project_id,instance_id,task_id,note\n')).rejects.toThrow(/unknown column "note"/);
    await expect(readCsv('project_id,instance_id,task_id,TASK_ID\n')).rejects.toThrow(
      /column task_id appears twice/,
    );
    await expect(readCsv('project_id,instance_id,task_id,\n')).rejects.toThrow(/column 4 has no name/);
  });

  it('refuses a header that lacks a required column', async () => {
    await expect(readCsv('project_id,task_id\np,t\n')).rejects.toThrow(
      /^line 1: header: missing column instance_id/,
    );
  });

  it('treats the first non-blank line as the header, naming its line', async () => {
    await expect(readCsv('\n\np-1,i-1,t-1\n')).rejects.toMatchObject({ field: 'line 3: header' });
  });

  it('refuses an empty input and a header without rows', async () => {
    await expect(readCsv('')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'no tasks: the input is empty',
    });
    await expect(readCsv('\r\n \n')).rejects.toThrow('no tasks: the input is empty');
    await expect(readCsv('project_id,instance_id,task_id\n\n')).rejects.toThrow(
      'no tasks: the input has a header but no rows',
    );
  });

  it('stops at malformed quoting, naming the line', async () => {
    await expect(readCsv('project_id,instance_id,task_id\np,i,t\np,"i"x,t\n')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^line 3: malformed CSV: Invalid Closing Quote/),
    });
    await expect(readCsv('project_id,instance_id,task_id\np,i,t\np,i x "y",t\n')).rejects.toThrow(
      /^line 3: malformed CSV/,
    );
  });

  it('stops at a quote left open instead of buffering the rest of the input', async () => {
    const text = `project_id,instance_id,task_id\np,i,"t\n${'p,i,t\n'.repeat(2_000)}`;
    await expect(readCsv(text, 1_024)).rejects.toThrow(/malformed CSV: Max Record Size/);
  });

  it('numbers a row by its first line when a quoted field spans lines', async () => {
    const records = await readCsv('project_id,instance_id,task_id\np,i,"t\nu"\np,i,v\n');
    expect(records.map((r) => [r.line, r.ok])).toEqual([
      [2, false],
      [4, true],
    ]);
  });

  it('passes on the line errors of binary and non-UTF-8 input', async () => {
    await expect(readCsv('project_id,instance_id,task_id\np,i,t\0\n')).rejects.toThrow(
      /^line 2: contains a NUL byte/,
    );
    await expect(
      readCsv(Buffer.from('project_id,instance_id,task_id\np,i,\xff\n', 'latin1')),
    ).rejects.toThrow('line 2: is not valid UTF-8');
    await expect(readCsv(`project_id,instance_id,task_id\n${'x'.repeat(300)}\n`, 256)).rejects.toThrow(
      /^line 2: is longer than 256 bytes/,
    );
  });

  it('reads ahead only as far as the stream buffers, and stops when the consumer stops', async () => {
    let pulled = 0;
    function* many(): Generator<Uint8Array> {
      yield Buffer.from('project_id,instance_id,task_id\n');
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield Buffer.from(`p,i,t${i}\n`);
      }
    }
    for await (const record of readCsvTasks(Readable.from(many()))) if (record.line > 3) break;
    // About 15 KB of 8-byte chunks sit in the stream buffers; the other 8,000+ lines are never read.
    expect(pulled).toBeLessThan(3_000);
  });

  describe('the plain-line reader and csv-parse', () => {
    /** Records, or the error thrown, reading `chunks` with one reader or the other. */
    async function settle(chunks: string[], csvParseOnly: boolean) {
      const records: TaskRecord[] = [];
      try {
        for await (const r of readCsvTasks(fromChunks(...chunks), { csvParseOnly, maxLineBytes: 512 }))
          records.push(r);
        return { records };
      } catch (err) {
        return { records, thrown: (err as Error).message };
      }
    }
    const header = fc.constantFrom(
      'project_id,instance_id,task_id',
      ' Task_ID , project_id,instance_id,region ',
    );
    // Plain text (what the fast reader takes), weighted towards the characters that matter.
    const plainLine = fc
      .array(
        fc.constantFrom('p', 'i-1', 't-2', ',', ' ', '\t', 'cn-north-4', '!', '~', '%', 'x'.repeat(70)),
        {
          maxLength: 12,
        },
      )
      .map((parts) => parts.join(''));
    const plainText = fc
      .tuple(header, fc.array(fc.tuple(plainLine, fc.constantFrom('\n', '\r\n')), { maxLength: 30 }))
      .map(([h, lines]) => `${h}\n${lines.map(([l, end]) => l + end).join('')}`);

    it('give the same records and errors for any plain input', async () => {
      await fc.assert(
        fc.asyncProperty(plainText, fc.boolean(), async (text, lastLineUnended) => {
          const input = lastLineUnended ? text.replace(/\r?\n$/, '') : text;
          expect(await settle([input], false)).toEqual(await settle([input], true));
        }),
        { numRuns: 300 },
      );
    });

    it('hand over to csv-parse mid-input, with the same line numbers and errors', async () => {
      await fc.assert(
        fc.asyncProperty(
          plainText,
          fc.constantFrom(
            'p,i,"t-9"\n',
            'p,"i\nj",t\n',
            'p,i,"t\n',
            'p,"i"x,t\n',
            'p,i,t\r\r\n',
            'p,\u00a0i,t\n',
          ),
          plainText.map((t) => t.slice(t.indexOf('\n') + 1)),
          async (before, odd, after) => {
            const chunks = [before.endsWith('\n') ? before : `${before}\n`, odd, after];
            const fast = await settle(chunks, false);
            const slow = await settle(chunks, true);
            expect(fast.thrown).toEqual(slow.thrown);
            // csv-parse alone may fail before handing on the rows it buffered with the bad one.
            if (slow.thrown === undefined) expect(fast.records).toEqual(slow.records);
            else expect(fast.records.slice(0, slow.records.length)).toEqual(slow.records);
          },
        ),
        { numRuns: 200 },
      );
    });

    it('name the input line in csv-parse errors after the hand-over', async () => {
      const lines = Array.from({ length: 40 }, (_, n) => `p,i,t${n}\n`).join('');
      const error = await settle(['project_id,instance_id,task_id\n', lines, 'p,"i"x,t\n'], false);
      expect(error.records).toHaveLength(40);
      expect(error.thrown).toMatch(/^line 42: malformed CSV: Invalid Closing Quote: .*\bline 42\b/);
    });
  });
});
