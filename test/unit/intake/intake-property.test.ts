import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CleanupError } from '../../../src/errors.js';
import { readTasks } from '../../../src/intake/read-tasks.js';
import { TASK_FORMATS, type TaskFormat, type TaskRecord } from '../../../src/intake/task-record.js';
import { fromChunks } from '../../support/byte-source.js';

/** Splits `bytes` at the given cut points, as a stream might. */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  return pieces;
}

/** Reads everything; returns the records, or the thrown error. */
async function settle(
  format: TaskFormat,
  chunks: Uint8Array[],
): Promise<{ records: TaskRecord[]; thrown?: unknown }> {
  const records: TaskRecord[] = [];
  try {
    for await (const record of readTasks(fromChunks(...chunks), format, { maxLineBytes: 512 }))
      records.push(record);
    return { records };
  } catch (thrown) {
    return { records, thrown };
  }
}

function expectOnlyCleanupErrors({ records, thrown }: { records: TaskRecord[]; thrown?: unknown }): void {
  if (thrown !== undefined) {
    expect(thrown).toBeInstanceOf(CleanupError);
    expect((thrown as CleanupError).code).toBe('INVALID_INPUT');
  }
  for (const record of records) if (!record.ok) expect(record.error).toBeInstanceOf(CleanupError);
  const lines = records.map((r) => r.line);
  expect(lines).toEqual([...lines].sort((a, b) => a - b));
}

/** Text built from the characters that matter to the parsers, so inputs get near-valid often. */
const nearTaskText = fc
  .array(
    fc.oneof(
      fc.constantFrom(',', '"', '\n', '\r\n', '\r', '{', '}', ':', ' ', '\uFEFF', '\0', 'é'),
      fc.constantFrom('project_id', 'instance_id', 'task_id', 'region', 'p-1', 'cn-north-4', '"task_id":"t"'),
      fc.string({ maxLength: 5 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('task file readers on arbitrary input', () => {
  for (const format of TASK_FORMATS) {
    it(`${format}: never throws anything but INVALID_INPUT on arbitrary bytes`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 2_000 }),
          fc.array(fc.nat(), { maxLength: 5 }),
          async (bytes, cuts) => {
            expectOnlyCleanupErrors(await settle(format, cut(bytes, cuts)));
          },
        ),
        { numRuns: 300 },
      );
    });

    it(`${format}: never throws anything but INVALID_INPUT on near-valid text`, async () => {
      await fc.assert(
        fc.asyncProperty(nearTaskText, fc.array(fc.nat(), { maxLength: 5 }), async (text, cuts) => {
          expectOnlyCleanupErrors(await settle(format, cut(Buffer.from(text, 'utf8'), cuts)));
        }),
        { numRuns: 300 },
      );
    });
  }

  const id = fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/);
  const task = fc.record(
    { project_id: id, instance_id: id, task_id: id, region: fc.constantFrom('cn-north-4', 'ap-southeast-1') },
    { requiredKeys: ['project_id', 'instance_id', 'task_id'] },
  );

  it('reads back every valid task written as CSV or JSON Lines, however the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(task, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (tasks, eol, cuts) => {
          const csv = ['task_id,region,project_id,instance_id']
            .concat(tasks.map((t) => `${t.task_id},${t.region ?? ''},"${t.project_id}",${t.instance_id}`))
            .join(eol);
          const jsonl = tasks.map((t) => JSON.stringify(t)).join(eol);
          for (const [format, text] of [
            ['csv', csv],
            ['jsonl', jsonl],
          ] as const) {
            const { records, thrown } = await settle(format, cut(Buffer.from(text), cuts));
            expect(thrown).toBeUndefined();
            expect(records.map((r) => (r.ok ? r.task : r.error.message))).toEqual(tasks);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
