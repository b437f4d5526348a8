import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonChunks, writeJsonFile } from '../../../src/cli/write-json-file.js';

const text = (value: unknown) => [...jsonChunks(value)].join('');

const SAMPLES: Record<string, unknown> = {
  'a plan-like object': {
    version: 1,
    run_id: 'purge-20261127T101500Z-ab12cd',
    region: null,
    filters: { older_than: '30d', statuses: ['SUCCESS', 'FAILED'], names: [], exclude_instances: [] },
    selected: [
      { project_id: 'p', task_id: 't1', created_at: '2026-09-01T07:38:42.503Z' },
      { project_id: 'p', task_id: 't2', created_at: '2026-09-02T07:38:42.503Z' },
    ],
    counts: { listed: 5210, matched: 412 },
  },
  'empty containers at every depth': { a: [], b: {}, c: [[], [{}], { d: [] }] },
  'what JSON.stringify leaves out or turns into null': {
    gone: undefined,
    fn: () => 1,
    sym: Symbol('s'),
    list: [undefined, () => 1, Symbol('s'), Number.NaN, Number.POSITIVE_INFINITY, -0],
  },
  'strings that need escaping': [
    'line\nbreak',
    'quote " and \\ backslash',
    'tab\t',
    'unicode é 漢 😀',
    '\u2028',
  ],
  'objects with toJSON, boxed values, Map and Set': {
    date: new Date('2026-11-27T10:15:00.000Z'),
    nested: { toJSON: () => ({ x: [1, { y: 2 }] }) },
    boxed: [Object(1), Object('s'), Object(false)],
    map: new Map([['a', 1]]),
    set: new Set([1]),
    typed: new Uint8Array([1, 2]),
  },
  'primitives alone': 42,
  'a string alone': 'plain',
  'null alone': null,
};

describe('jsonChunks', () => {
  it.each(Object.entries(SAMPLES))(
    'writes exactly what JSON.stringify(v, null, 2) does: %s',
    (_label, value) => {
      expect(text(value)).toBe(JSON.stringify(value, null, 2));
    },
  );

  it('writes an iterator as the array of what it yields, one item at a time', () => {
    const items = [{ a: 1 }, { b: [2, 3] }, 'c'];
    let made = 0;
    function* lines() {
      for (const item of items) {
        made += 1;
        yield item;
      }
    }
    const pieces = jsonChunks({ head: true, tasks: lines(), none: [].values() });
    expect(made).toBe(0);
    expect([...pieces].join('')).toBe(JSON.stringify({ head: true, tasks: items, none: [] }, null, 2));
    expect(made).toBe(3);
  });
});

describe('writeJsonFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcs-json-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the JSON and a newline, readable only by its owner, in pieces larger than one write', async () => {
    const path = join(dir, 'report.json');
    const tasks = Array.from({ length: 3_000 }, (_, i) => ({ task_id: `task-${i}`, outcome: 'pending' }));
    await writeJsonFile(path, { run_id: 'r', tasks: tasks.values() });
    expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify({ run_id: 'r', tasks }, null, 2)}\n`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('leaves no file, and no temporary file, when a value cannot be written', async () => {
    const path = join(dir, 'broken.json');
    function* failing() {
      yield { ok: true };
      throw new Error('source failed');
    }
    await expect(writeJsonFile(path, { tasks: failing() })).rejects.toThrow('source failed');
    await expect(writeJsonFile(path, { big: 10n })).rejects.toThrow(TypeError);
    expect((await readdir(dir)).filter((f) => f.startsWith('broken'))).toEqual([]);
  });
});
