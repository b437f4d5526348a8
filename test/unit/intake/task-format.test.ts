import { describe, expect, it } from 'vitest';
import { detectFormatFromPath, sniffFormat } from '../../../src/intake/task-format.js';
import { drain, fromChunks } from '../../support/byte-source.js';

describe('detectFormatFromPath', () => {
  it('knows .csv, .jsonl and .ndjson in any case, and nothing else', () => {
    expect(detectFormatFromPath('/tmp/tasks.csv')).toBe('csv');
    expect(detectFormatFromPath('TASKS.CSV')).toBe('csv');
    expect(detectFormatFromPath('a.b/tasks.jsonl')).toBe('jsonl');
    expect(detectFormatFromPath('tasks.NDJSON')).toBe('jsonl');
    expect(detectFormatFromPath('tasks.json')).toBeUndefined();
    expect(detectFormatFromPath('tasks.txt')).toBeUndefined();
    expect(detectFormatFromPath('tasks')).toBeUndefined();
  });
});

describe('sniffFormat', () => {
  const text = async (source: AsyncIterable<Uint8Array>) =>
    Buffer.concat(await drain(source)).toString('utf8');

  it('calls an input whose first non-blank character is { JSON Lines, and replays every byte', async () => {
    const sniffed = await sniffFormat(fromChunks('\uFEFF', ' \r\n', '\n', '  {"task_id":"t"}\n', '{}\n'));
    expect(sniffed.format).toBe('jsonl');
    expect(await text(sniffed.source)).toBe('\uFEFF \r\n\n  {"task_id":"t"}\n{}\n');
  });

  it('calls anything else CSV, including an empty input', async () => {
    const sniffed = await sniffFormat(fromChunks('project_id,instance_id,task_id\n'));
    expect(sniffed.format).toBe('csv');
    expect(await text(sniffed.source)).toBe('project_id,instance_id,task_id\n');
    expect((await sniffFormat(fromChunks())).format).toBe('csv');
  });

  it('refuses a JSON array with a hint', async () => {
    await expect(sniffFormat(fromChunks('  [{"task_id":"t"}]'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('JSON Lines'),
    });
  });
});
