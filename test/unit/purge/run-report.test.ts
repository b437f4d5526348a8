import { describe, expect, it } from 'vitest';
import {
  countOutcomes,
  decideRunExit,
  formatElapsed,
  type TaskOutcome,
} from '../../../src/purge/run-report.js';

const counts = (...outcomes: TaskOutcome[]) => countOutcomes(outcomes.map((outcome) => ({ outcome })));

describe('decideRunExit', () => {
  it('is ok when every task ended deleted or already gone', () => {
    expect(
      decideRunExit({ guardStopped: false, counts: counts('deleted', 'already_gone'), waited: true }),
    ).toBe('ok');
  });

  it('puts the guard first, then dead letters, then anything left undone', () => {
    const mixed = counts('deleted', 'dead_lettered', 'skipped');
    expect(decideRunExit({ guardStopped: true, counts: mixed, waited: true })).toBe('guardStopped');
    expect(decideRunExit({ guardStopped: false, counts: mixed, waited: true })).toBe('deadLettered');
    expect(decideRunExit({ guardStopped: false, counts: counts('deleted', 'skipped'), waited: true })).toBe(
      'failure',
    );
    expect(decideRunExit({ guardStopped: false, counts: counts('deleted', 'unknown'), waited: true })).toBe(
      'failure',
    );
  });

  it('counts queued tasks as success without --wait and as failure after a wait that timed out', () => {
    expect(decideRunExit({ guardStopped: false, counts: counts('pending'), waited: false })).toBe('ok');
    expect(decideRunExit({ guardStopped: false, counts: counts('pending'), waited: true })).toBe('failure');
  });
});

describe('formatElapsed', () => {
  it('reads naturally from seconds to hours', () => {
    expect(formatElapsed(4_200)).toBe('4.2s');
    expect(formatElapsed(123_000)).toBe('02m 03s');
    expect(formatElapsed(3_723_000)).toBe('1h 02m 03s');
  });
});
