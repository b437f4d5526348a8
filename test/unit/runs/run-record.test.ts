import { describe, expect, it } from 'vitest';
import { checkRunFlags } from '../../../src/cli/purge-run.js';
import { describeRun } from '../../../src/cli/runs-command.js';
import { readRunHash } from '../../../src/runs/run-record.js';

const hash = {
  run_id: 'purge-20261206T080000Z-abc123',
  kind: 'api-purge',
  started_by: 'api ci-bot',
  spec: '{"max":10}',
  verify: '1',
  state: 'running',
  created_at: '2026-12-06T08:00:00.000Z',
  selected: '10',
  enqueued: '8',
  duplicates: '2',
  deleted: '3',
  already_gone: '1',
  dead_lettered: '1',
  cancelled: '0',
};

describe('a run record read from its hash', () => {
  it('derives pending from what was enqueued and what ended, and parses the spec', () => {
    const run = readRunHash(hash)!;
    expect(run.counts).toEqual({
      selected: 10,
      enqueued: 8,
      duplicates: 2,
      deleted: 3,
      already_gone: 1,
      dead_lettered: 1,
      cancelled: 0,
      pending: 3,
    });
    expect(run).toMatchObject({ spec: { max: 10 }, verify: true, enqueued_at: null, report: null });
    expect(describeRun(run)).toBe(
      'purge-20261206T080000Z-abc123  running  api-purge  by api ci-bot  selected 10, deleted 3, gone 1, dead 1, pending 3  started 2026-12-06T08:00:00.000Z',
    );
  });

  it('has nothing pending once failed, shows still_present only after a verification, and refuses a foreign hash', () => {
    expect(readRunHash({ ...hash, state: 'failed' })!.counts.pending).toBe(0);
    expect(readRunHash(hash)!.counts.still_present).toBeUndefined();
    expect(readRunHash({ ...hash, still_present: '2' })!.counts.still_present).toBe(2);
    expect(readRunHash({ ...hash, spec: 'not json' })!.spec).toBeNull();
    expect(readRunHash({})).toBeUndefined();
    expect(readRunHash({ ...hash, state: 'exploded' })).toBeUndefined();
    expect(readRunHash({ ...hash, kind: 'other' })).toBeUndefined();
  });
});

describe('purge --verify', () => {
  it('needs --wait, naming the flag', () => {
    expect(() => checkRunFlags({ yes: true, verify: true }, true, false)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', field: 'verify' }),
    );
    expect(checkRunFlags({ yes: true, verify: true, wait: true }, true, false)).toBeUndefined();
  });
});
