import { mkdir, mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTaskSource, type TaskSource } from '../../../src/intake/task-source.js';
import { drain, fromChunks } from '../../support/byte-source.js';

const HEADER = 'project_id,instance_id,task_id\n';
const jsonLine = (taskId: string) =>
  `${JSON.stringify({ project_id: 'p', instance_id: 'i', task_id: taskId })}\n`;

describe('openTaskSource', () => {
  let dir: string;
  let spoolDir: string;
  let sources: TaskSource[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'task-source-test-'));
    spoolDir = join(dir, 'spool');
    await mkdir(spoolDir);
    sources = [];
  });
  afterEach(async () => {
    for (const source of sources) await source.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(
    path: string,
    extra: Partial<Parameters<typeof openTaskSource>[0]> = {},
  ): Promise<TaskSource> {
    const source = await openTaskSource({ path, stdin: fromChunks(), tmpDir: spoolDir, ...extra });
    sources.push(source);
    return source;
  }

  it('validates a file, then reads its valid tasks again', async () => {
    const path = join(dir, 'tasks.csv');
    await writeFile(path, `${HEADER}p,i,t1\np,i,bad!\np,i,t2\n`);
    const source = await open(path);
    const report = await source.validate();
    expect(report).toMatchObject({ format: 'csv', valid: 2, invalid: 1 });
    expect(report.errors.map((e) => e.message)).toEqual([
      'line 3: task_id: must be 1 to 64 letters, digits or "-"',
    ]);
    expect((await drain(source.readValidTasks())).map((t) => t.task_id)).toEqual(['t1', 't2']);
  });

  it('keeps only the first maxErrors errors but counts them all', async () => {
    const path = join(dir, 'tasks.csv');
    await writeFile(path, HEADER + 'p,i,!\n'.repeat(50));
    const report = await (await open(path, { maxErrors: 3 })).validate();
    expect(report.invalid).toBe(50);
    expect(report.errors.map((e) => e.field)).toEqual([
      'line 2: task_id',
      'line 3: task_id',
      'line 4: task_id',
    ]);
  });

  it('spools stdin to a private temp file for the second pass, and removes it on close', async () => {
    const source = await open('-', { stdin: fromChunks(jsonLine('a'), jsonLine('b')) });
    expect(source.name).toBe('stdin');
    expect(await source.validate()).toMatchObject({ format: 'jsonl', valid: 2, invalid: 0 });
    expect(await readdir(spoolDir)).toHaveLength(1);
    expect((await drain(source.readValidTasks())).map((t) => t.task_id)).toEqual(['a', 'b']);
    await source.close();
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('uses --format over sniffing for stdin', async () => {
    const source = await open('-', { format: 'csv', stdin: fromChunks(jsonLine('a')) });
    await expect(source.validate()).rejects.toThrow(/^stdin: line 1: malformed CSV/);
  });

  it('prefixes whole-input errors with the name and still removes the spool', async () => {
    const source = await open('-', { stdin: fromChunks(HEADER, 'p,i,t\0\n') });
    await expect(source.validate()).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^stdin: line 2: contains a NUL byte/),
    });
    await source.close();
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('refuses to enqueue a file that changed after validation', async () => {
    const path = join(dir, 'tasks.jsonl');
    await writeFile(path, jsonLine('a'));
    const source = await open(path);
    await source.validate();
    await appendFile(path, jsonLine('b'));
    await expect(drain(source.readValidTasks())).rejects.toThrow(`${path} changed after it was validated`);
  });

  it('refuses a file without a known extension unless the format is given', async () => {
    const path = join(dir, 'tasks.txt');
    await writeFile(path, jsonLine('a'));
    await expect(open(path)).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'format' });
    expect(await (await open(path, { format: 'jsonl' })).validate()).toMatchObject({ valid: 1 });
  });

  it('names a missing file and a directory', async () => {
    await expect(open(join(dir, 'nope.csv'))).rejects.toThrow(/nope\.csv: cannot read: no such file/);
    await expect(open(dir)).rejects.toThrow(/is a directory/);
  });

  it('refuses an empty file', async () => {
    const path = join(dir, 'empty.csv');
    await writeFile(path, '');
    await expect((await open(path)).validate()).rejects.toThrow(`${path}: no tasks: the input is empty`);
  });
});
