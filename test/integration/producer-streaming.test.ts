import { describe, expect, it } from 'vitest';
import { isCleanupError } from '../../src/index.js';
import { useProducer } from '../support/producer-fixture.js';

const t = useProducer('producer-stream', 5);

const task = (n: number) => ({
  project_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  instance_id: '3f8c2a1e-6b7d-4c5e-9a0b-1c2d3e4f5a6b',
  task_id: `aa8080818f1e2d3c018f1e4b5a6c${String(n).padStart(4, '0')}`,
});

/** Yields `items`, noting for each how many chunks were reported done when it was asked for. */
async function* stream(items: unknown[], chunksDone: () => number, asked: number[]): AsyncGenerator<unknown> {
  for (const item of items) {
    asked.push(chunksDone());
    yield await Promise.resolve(item);
  }
}

describe('the producer with a streamed input', () => {
  it('reads the next chunk while the previous one is being added, and reports chunks in order', async () => {
    const reported: number[][] = [];
    const asked: number[] = [];
    const tasks = Array.from({ length: 17 }, (_, i) => task(i));
    const summary = await t.producer.enqueueMany(
      stream(tasks, () => reported.length, asked),
      {
        collectJobs: true,
        onChunk: (c) => reported.push(c.jobs.map((j) => Number(j.task_id.slice(-4)))),
      },
    );
    expect(summary.enqueued).toBe(17);
    expect(reported.flat()).toEqual(tasks.map((_, i) => i));
    expect(reported.map((c) => c.length)).toEqual([5, 5, 5, 2]);
    // The first task of the second chunk was asked for before the first chunk was done (in Redis).
    expect(asked[5]).toBe(0);
    expect(asked[10]).toBe(1);
    expect(await t.queue.getWaitingCount()).toBe(17);
  });

  it('tells a duplicate across two neighbouring chunks, as the previous chunk is added before the next is checked', async () => {
    const tasks = [...Array.from({ length: 5 }, (_, i) => task(100 + i)), task(100), task(105)];
    const summary = await t.producer.enqueueMany(
      stream(tasks, () => 0, []),
      { collectJobs: true },
    );
    expect(summary).toMatchObject({ enqueued: 6, duplicates: 1 });
    expect(summary.jobs[5]).toMatchObject({ duplicate: true });
  });

  it('stops at an invalid line with every earlier chunk enqueued and nothing after it', async () => {
    const items: unknown[] = [...Array.from({ length: 12 }, (_, i) => task(200 + i))];
    items.splice(11, 0, { ...task(299), task_id: 'not valid!' });
    const error = await t.producer.enqueueMany(stream(items, () => 0, [])).catch((err: unknown) => err);
    expect(isCleanupError(error) && error.code).toBe('INVALID_INPUT');
    const jobs = await t.queue.getJobs(['waiting'], 0, -1);
    const added = jobs.map((j) => (j.data as { task_id: string }).task_id).filter((id) => id.includes('c02'));
    expect(added.sort()).toEqual(Array.from({ length: 10 }, (_, i) => task(200 + i).task_id).sort());
  });
});
