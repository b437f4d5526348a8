/**
 * The run ledger on a real Redis (a prefix of its own): exact counts when job ends are reported
 * twice or race each other, ends before the enqueue finished, cancelled and failed runs, and the
 * retention by count and by age.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisClient } from '../../src/queue/redis-connection.js';
import { countRunJobEnd } from '../../src/runs/run-job-hook.js';
import { createRunLedger, runKey, runsIndexKey, type RunLedger } from '../../src/runs/run-ledger.js';
import type { RunRecord } from '../../src/runs/run-record.js';
import { REDIS_URL, deletePrefix, uniquePrefix } from '../support/redis-prefix.js';

const prefix = uniquePrefix('run-ledger');
let a: RedisClient;
let b: RedisClient;
let ledgerA: RunLedger;
let ledgerB: RunLedger;

beforeAll(() => {
  a = createRedisConnection(REDIS_URL, 'worker');
  b = createRedisConnection(REDIS_URL, 'worker');
  ledgerA = createRunLedger({ connection: a, prefix });
  ledgerB = createRunLedger({ connection: b, prefix });
});

afterAll(async () => {
  a?.disconnect();
  b?.disconnect();
  await deletePrefix(prefix);
});

const jobIds = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `del_p_${tag}_t${i}`);

async function startRun(ledger: RunLedger, runId: string, verify = false): Promise<void> {
  await ledger.start({ runId, kind: 'purge', startedBy: 'tester@host', spec: { max: 10 }, verify });
}

describe('counts', () => {
  it('counts a job reported twice once, and ends the run exactly once when two workers race', async () => {
    const ended: RunRecord[] = [];
    const offA = ledgerA.onRunEnded((r) => ended.push(r));
    const offB = ledgerB.onRunEnded((r) => ended.push(r));
    await startRun(ledgerA, 'race-1');
    const ids = jobIds(200, 'race');
    await ledgerA.enqueued('race-1', { selected: 200, enqueued: 200, duplicates: 0 });
    expect((await ledgerA.get('race-1'))?.state).toBe('enqueued');
    // Every end reported by both workers (a re-delivered job), all at once.
    await Promise.all(
      ids.flatMap((id, i) => [
        ledgerA.jobEnded('race-1', id, i % 10 === 0 ? 'already_gone' : 'deleted'),
        ledgerB.jobEnded('race-1', id, 'dead_lettered'),
      ]),
    );
    const run = (await ledgerA.get('race-1'))!;
    expect(run.state).toBe('finished');
    const c = run.counts;
    expect(c.deleted + c.already_gone + c.dead_lettered).toBe(200);
    expect(c.pending).toBe(0);
    expect(ended.map((r) => r.run_id)).toEqual(['race-1']);
    expect(ended[0]!.state).toBe('finished');
    // The ended set goes with the run's end; a late re-report changes nothing.
    expect(await a.exists(`${runKey(prefix, 'race-1')}:ended`)).toBe(0);
    await ledgerB.jobEnded('race-1', ids[0]!, 'deleted');
    expect((await ledgerA.get('race-1'))!.counts).toEqual(c);
    offA();
    offB();
  });

  it('keeps ends reported while the enqueue ran, and ends the run when the enqueue finds them all ended', async () => {
    await startRun(ledgerA, 'early-1');
    for (const id of jobIds(3, 'early')) await ledgerA.jobEnded('early-1', id, 'deleted');
    expect((await ledgerA.get('early-1'))!).toMatchObject({ state: 'listing', counts: { deleted: 3 } });
    const run = await ledgerA.enqueued('early-1', {
      selected: 3,
      enqueued: 3,
      duplicates: 0,
      listing: { matched: 3 },
    });
    expect(run).toMatchObject({ state: 'finished', counts: { deleted: 3, pending: 0 } });
    expect(run!.report).toEqual({ listing: { matched: 3 } });

    await startRun(ledgerA, 'empty-1');
    expect(await ledgerA.enqueued('empty-1', { selected: 0, enqueued: 0, duplicates: 0 })).toMatchObject({
      state: 'finished',
    });
  });

  it('goes to running at the first end, and pending counts what has not ended', async () => {
    await startRun(ledgerA, 'run-1');
    await ledgerA.enqueued('run-1', { selected: 5, enqueued: 4, duplicates: 1 });
    await ledgerA.jobEnded('run-1', 'del_p_i_a', 'deleted');
    expect((await ledgerA.get('run-1'))!).toMatchObject({
      state: 'running',
      counts: { selected: 5, enqueued: 4, duplicates: 1, deleted: 1, pending: 3 },
    });
  });

  it('counts the in-flight ends of a cancelled run, which stays cancelled; a failed run counts nothing more', async () => {
    await startRun(ledgerA, 'cancel-1');
    await ledgerA.enqueued('cancel-1', { selected: 3, enqueued: 3, duplicates: 0 });
    expect(await ledgerA.markCancelled('cancel-1')).toEqual({ cancelled: true, state: 'cancelled' });
    expect(await ledgerA.markCancelled('cancel-1')).toEqual({ cancelled: false, state: 'cancelled' });
    await ledgerA.jobEnded('cancel-1', 'del_p_i_1', 'cancelled');
    await ledgerA.jobEnded('cancel-1', 'del_p_i_2', 'cancelled');
    await ledgerA.jobEnded('cancel-1', 'del_p_i_3', 'deleted');
    await ledgerA.jobEnded('cancel-1', 'del_p_i_3', 'deleted');
    expect((await ledgerA.get('cancel-1'))!).toMatchObject({
      state: 'cancelled',
      counts: { cancelled: 2, deleted: 1, pending: 0 },
    });

    await startRun(ledgerA, 'fail-1');
    await ledgerA.fail('fail-1', 'DCS answered 401');
    await ledgerA.jobEnded('fail-1', 'del_p_i_1', 'deleted');
    expect((await ledgerA.get('fail-1'))!).toMatchObject({
      state: 'failed',
      error: 'DCS answered 401',
      counts: { deleted: 0 },
    });
    expect(await ledgerA.markCancelled('fail-1')).toEqual({ cancelled: false, state: 'failed' });
    expect(await ledgerA.markCancelled('nothing-1')).toEqual({ cancelled: false, state: undefined });
  });

  it("keeps a verifying run's deleted and gone jobs until the verification, then its result", async () => {
    await startRun(ledgerA, 'verify-1', true);
    await ledgerA.enqueued('verify-1', { selected: 3, enqueued: 3, duplicates: 0 });
    await ledgerA.jobEnded('verify-1', 'del_p_i_1', 'deleted');
    await ledgerA.jobEnded('verify-1', 'del_p_i_2', 'already_gone');
    await ledgerA.jobEnded('verify-1', 'del_p_i_3', 'dead_lettered');
    expect((await ledgerA.goneJobIds('verify-1')).sort()).toEqual(['del_p_i_1', 'del_p_i_2']);
    const task = { project_id: 'p', instance_id: 'i', task_id: '1', name: 'EXTEND', status: 'SUCCESS' };
    await ledgerA.recordVerification('verify-1', [task]);
    const run = (await ledgerA.get('verify-1'))!;
    expect(run.counts.still_present).toBe(1);
    expect(run.report).toMatchObject({ verification: { still_present: [task] } });
    expect(await ledgerA.goneJobIds('verify-1')).toEqual([]);
  });

  it('keeps the counts of a run started again under its id (a plan applied twice), adding its new jobs', async () => {
    await startRun(ledgerA, 'again-1');
    await ledgerA.enqueued('again-1', { selected: 3, enqueued: 3, duplicates: 0 });
    await ledgerA.jobEnded('again-1', 'del_p_i_1', 'deleted');
    const first = (await ledgerA.get('again-1'))!;
    await startRun(ledgerA, 'again-1');
    expect((await ledgerA.get('again-1'))!).toMatchObject({
      state: 'listing',
      created_at: first.created_at,
      counts: { deleted: 1 },
    });
    // Three tasks again: two still queued from the first apply (duplicates), one new job.
    await ledgerA.enqueued('again-1', { selected: 3, enqueued: 1, duplicates: 2 });
    for (const id of ['del_p_i_2', 'del_p_i_3', 'del_p_i_4'])
      await ledgerA.jobEnded('again-1', id, 'deleted');
    expect((await ledgerA.get('again-1'))!).toMatchObject({
      state: 'finished',
      counts: { enqueued: 4, deleted: 4, pending: 0 },
    });
    expect((await ledgerA.list(100)).filter((r) => r.run_id === 'again-1')).toHaveLength(1);
  });

  it('counts a job end through the hook only for a well-formed run id', async () => {
    await startRun(ledgerA, 'hook-1');
    await countRunJobEnd(ledgerA, { run_id: 'hook-1' }, 'del_p_i_1', 'deleted');
    await countRunJobEnd(ledgerA, { run_id: 'hook 1' }, 'del_p_i_2', 'deleted');
    await countRunJobEnd(ledgerA, null, 'del_p_i_3', 'deleted');
    await countRunJobEnd(ledgerA, { run_id: 'hook-1' }, undefined, 'deleted');
    expect((await ledgerA.get('hook-1'))!.counts.deleted).toBe(1);
  });
});

describe('retention', () => {
  it('keeps the newest RUNS_MAX_COUNT runs, and none older than RUNS_RETENTION_DAYS', async () => {
    const own = uniquePrefix('run-ledger-retention');
    let now = new Date('2026-01-01T00:00:00Z');
    const ledger = createRunLedger({
      connection: a,
      prefix: own,
      retention: { days: 30, maxCount: 3 },
      now: () => now,
    });
    try {
      for (let i = 1; i <= 5; i++) {
        now = new Date(now.getTime() + 60_000);
        await startRun(ledger, `keep-${i}`);
      }
      expect((await ledger.list(10)).map((r) => r.run_id)).toEqual(['keep-5', 'keep-4', 'keep-3']);
      expect(await a.exists(runKey(own, 'keep-1'))).toBe(0);

      now = new Date(now.getTime() + 31 * 86_400_000);
      await startRun(ledger, 'late-1');
      expect((await ledger.list(10)).map((r) => r.run_id)).toEqual(['late-1']);
      expect(await a.zcard(runsIndexKey(own))).toBe(1);
    } finally {
      await deletePrefix(own);
    }
  });
});
