import { describe, expect, it } from 'vitest';
import { mergeBounded, streamInventory, type TaskLister } from '../../../src/purge/stream-inventory.js';
import type { ListedTask } from '../../../src/purge/plan-purge.js';
import { DcsRequestError } from '../../../src/dcs/dcs-request-error.js';

const NOW = new Date('2026-11-27T10:15:00.000Z');

interface FakeLister extends TaskLister {
  calls: { instanceId: string; endTime: Date | undefined }[];
  maxInFlight: number;
}

/** A lister with `perInstance` tasks on each instance, served in pages of 10 after a tick. */
function fakeLister(
  instances: string[],
  perInstance: number,
  gone: string[] = [],
  authFails = false,
): FakeLister {
  let inFlight = 0;
  const lister: FakeLister = {
    calls: [],
    maxInFlight: 0,
    async *listInstances() {
      for (const instanceId of instances) {
        await Promise.resolve();
        yield { instanceId };
      }
    },
    async *listBackgroundTasks(ref, options) {
      lister.calls.push({ instanceId: ref.instanceId, endTime: options?.endTime });
      if (authFails) {
        await new Promise((r) => setImmediate(r));
        throw new DcsRequestError('GET tasks', {
          verdict: { action: 'auth_failed', reason: 'APIGW.0301' },
          status: 401,
          durationMs: 1,
        });
      }
      if (gone.includes(ref.instanceId)) {
        throw new DcsRequestError('GET tasks', {
          verdict: { action: 'already_gone', reason: '111404022' },
          status: 404,
          durationMs: 1,
        });
      }
      for (let offset = 0; offset < perInstance; offset += 10) {
        inFlight++;
        lister.maxInFlight = Math.max(lister.maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        const page: ListedTask[] = [];
        for (let i = offset; i < Math.min(offset + 10, perInstance); i++) {
          page.push({
            id: `${ref.instanceId}-t${i}`,
            projectId: ref.projectId,
            instanceId: ref.instanceId,
            name: 'EXTEND',
            status: 'SUCCESS',
            createdAt: NOW,
          });
        }
        yield* page;
      }
    },
  };
  return lister;
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('streamInventory', () => {
  it('lists every task of every instance, at most `concurrency` listings at once', async () => {
    const instances = Array.from({ length: 20 }, (_, i) => `inst-${i}`);
    const lister = fakeLister(instances, 35);
    const { tasks, stats } = streamInventory(lister, { projectId: 'p' }, { concurrency: 4, now: NOW });
    const all = await collect(tasks);
    expect(all).toHaveLength(20 * 35);
    expect(new Set(all.map((t) => t.id)).size).toBe(20 * 35);
    expect(lister.maxInFlight).toBeLessThanOrEqual(4);
    expect(lister.maxInFlight).toBeGreaterThan(1);
    expect(stats.instances).toBe(20);
  });

  it('lists only the named instances, never an excluded one', async () => {
    const lister = fakeLister(['a', 'b', 'c'], 3);
    const { tasks } = streamInventory(
      lister,
      { projectId: 'p', instances: ['a', 'c'], excludeInstances: ['c'] },
      { now: NOW },
    );
    expect((await collect(tasks)).map((t) => t.instanceId)).toEqual(['a', 'a', 'a']);
    expect(lister.calls.map((c) => c.instanceId)).toEqual(['a']);
  });

  it('narrows the list window to the age cut plus a day of margin, only when that is in the past', async () => {
    const lister = fakeLister(['a'], 1);
    const old = new Date(NOW.getTime() - 30 * 86_400_000);
    await collect(streamInventory(lister, { projectId: 'p', createdBefore: old }, { now: NOW }).tasks);
    expect(lister.calls[0]!.endTime).toEqual(new Date(old.getTime() + 86_400_000));
    const recent = new Date(NOW.getTime() - 3_600_000);
    await collect(streamInventory(lister, { projectId: 'p', createdBefore: recent }, { now: NOW }).tasks);
    expect(lister.calls[1]!.endTime).toBeUndefined();
  });

  it('passes over an instance that no longer exists and says so', async () => {
    const lister = fakeLister(['a', 'b'], 2, ['b']);
    const { tasks, stats } = streamInventory(lister, { projectId: 'p' }, { now: NOW });
    expect(await collect(tasks)).toHaveLength(2);
    expect(stats.instancesGone).toEqual(['b']);
  });

  it('sends one list call alone first, so a wrong key fails once rather than once per instance', async () => {
    const lister = fakeLister(['a', 'b', 'c', 'd'], 3, [], true);
    const { tasks } = streamInventory(
      lister,
      { projectId: 'p', instances: ['a', 'b', 'c', 'd'] },
      { now: NOW },
    );
    await expect(collect(tasks)).rejects.toMatchObject({ code: 'DCS_AUTH_FAILED' });
    expect(lister.calls).toHaveLength(1);
  });
});

describe('mergeBounded', () => {
  it('hands on items as they arrive while another stream waits for its page, losing none', async () => {
    let releaseSlow!: () => void;
    const slowPage = new Promise<void>((resolve) => (releaseSlow = resolve));
    let running = 0;
    let mostRunning = 0;
    async function* stream(name: string, count: number, wait?: Promise<void>): AsyncGenerator<string> {
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      try {
        yield `${name}0`;
        if (wait) await wait;
        for (let i = 1; i < count; i++) {
          if (i % 100 === 0) await new Promise((r) => setImmediate(r));
          yield `${name}${i}`;
        }
      } finally {
        running -= 1;
      }
    }
    async function* streams(): AsyncGenerator<AsyncGenerator<string>> {
      await Promise.resolve();
      yield stream('slow-', 3, slowPage);
      yield stream('a-', 2_000);
      yield stream('b-', 2_000);
      yield stream('c-', 10);
    }
    const seen: string[] = [];
    for await (const item of mergeBounded<string>(streams(), 2)) {
      seen.push(item);
      // The slow stream's page arrives only once everything else went through.
      if (seen.length === 4_011) releaseSlow();
    }
    expect(seen.slice(-2)).toEqual(['slow-1', 'slow-2']);
    expect(new Set(seen).size).toBe(4_013);
    expect(mostRunning).toBe(2);
  });

  it('rethrows the first failure of any stream', async () => {
    async function* good() {
      yield 1;
      await new Promise((r) => setImmediate(r));
      yield 2;
    }
    // eslint-disable-next-line require-yield
    async function* bad(): AsyncGenerator<number> {
      await Promise.resolve();
      throw new Error('page failed');
    }
    async function* streams() {
      await Promise.resolve();
      yield good();
      yield bad();
    }
    await expect(collect(mergeBounded(streams(), 2))).rejects.toThrow('page failed');
  });
});
