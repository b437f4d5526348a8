import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_ID_PATTERN,
  JOB_ID_PATTERN,
  buildJobId,
  buildLegacyJobId,
  parseJobId,
} from '../../../src/queue/job-contract.js';
import { ID_CHARS } from '../../../src/dcs/ids.js';

const idChar = fc.constantFrom(...'abcXYZ019-');
/** Ids of the DCS alphabet, short and dash-heavy so that old-form collisions are common. */
const dcsId = fc.string({ unit: idChar, minLength: 1, maxLength: 6 });
const longId = fc.string({ unit: fc.constantFrom(...'aZ9-'), minLength: 1, maxLength: 64 });
const triple = (id: fc.Arbitrary<string>) => fc.record({ project_id: id, instance_id: id, task_id: id });
const same = (x: Record<string, string>, y: Record<string, string>): boolean =>
  x.project_id === y.project_id && x.instance_id === y.instance_id && x.task_id === y.task_id;

/**
 * Pairs of tasks whose ids joined by "-" are the same string (the old form's collisions): the
 * second cuts the first's joined ids at two other dashes.
 */
const sameJoined = fc
  .tuple(triple(dcsId), fc.nat(), fc.nat())
  .map(([x, m, n]) => {
    const joined = `${x.project_id}-${x.instance_id}-${x.task_id}`;
    const dashes = [...joined].flatMap((c, i) => (c === '-' ? [i] : []));
    const [i = 0, j = 0] = [dashes[m % dashes.length]!, dashes[n % dashes.length]!].sort((u, v) => u - v);
    const y = {
      project_id: joined.slice(0, i),
      instance_id: joined.slice(i + 1, j),
      task_id: joined.slice(j + 1),
    };
    return [x, y] as const;
  })
  .filter(([, y]) => y.project_id !== '' && y.instance_id !== '' && y.task_id !== '');

describe('job ids', () => {
  it('never gives two distinct tasks the same id, not even those whose ids joined by "-" are equal', () => {
    fc.assert(
      fc.property(sameJoined, ([x, y]) => same(x, y) || buildJobId(x) !== buildJobId(y)),
      { numRuns: 2_000 },
    );
    for (const id of [dcsId, longId]) {
      fc.assert(
        fc.property(triple(id), triple(id), (x, y) => same(x, y) || buildJobId(x) !== buildJobId(y)),
        { numRuns: 2_000 },
      );
    }
  });

  it('separates the ids with a character outside the id alphabet, and never with ":" (BullMQ refuses it)', () => {
    expect(new RegExp(`[${ID_CHARS}]`).test('_')).toBe(false);
    fc.assert(
      fc.property(triple(longId), (x) => {
        const jobId = buildJobId(x);
        expect(jobId.split('_')).toEqual(['del', x.project_id, x.instance_id, x.task_id]);
        expect(jobId).not.toContain(':');
        expect(JOB_ID_PATTERN.test(jobId)).toBe(true);
        expect(JOB_ID_PATTERN.test(buildLegacyJobId(x))).toBe(true);
        expect(parseJobId(jobId)).toEqual(x);
      }),
    );
  });

  it('tells apart the two tasks whose old ids collided', () => {
    const a = { project_id: 'p1-p2', instance_id: 'i1', task_id: 't1' };
    const b = { project_id: 'p1', instance_id: 'p2-i1', task_id: 't1' };
    expect(buildLegacyJobId(a)).toBe(buildLegacyJobId(b));
    expect(buildJobId(a)).toBe('del_p1-p2_i1_t1');
    expect(buildJobId(b)).toBe('del_p1_p2-i1_t1');
  });

  it("matches none of BullMQ's own key names as a job or dead letter id", () => {
    for (const name of [
      'meta',
      'wait',
      'events',
      'id',
      'active',
      'completed',
      'delayed',
      'del',
      'del-',
      'dl-',
    ]) {
      expect(JOB_ID_PATTERN.test(name), name).toBe(false);
      expect(DEAD_LETTER_ID_PATTERN.test(name), name).toBe(false);
    }
  });
});
