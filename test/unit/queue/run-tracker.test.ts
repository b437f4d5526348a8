import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { readJobEnd } from '../../../src/queue/run-tracker.js';

const job = (fields: Partial<Job>): Job => fields as Job;

describe('readJobEnd', () => {
  it('reads the outcome a completed job returned', () => {
    const result = {
      outcome: 'deleted',
      http_status: 200,
      error_code: null,
      request_id: 'r1',
      attempts: 1,
      duration_ms: 5,
    };
    expect(readJobEnd(job({ returnvalue: result, finishedOn: 1 }))).toEqual({ outcome: 'deleted', result });
    expect(
      readJobEnd(job({ returnvalue: { ...result, outcome: 'dead_lettered' }, finishedOn: 1 }))?.outcome,
    ).toBe('dead_lettered');
  });

  it('counts a job BullMQ failed for good as dead-lettered (the worker sweeps it there)', () => {
    expect(
      readJobEnd(job({ finishedOn: 1, failedReason: 'job stalled more than allowable limit' })),
    ).toMatchObject({
      outcome: 'dead_lettered',
      note: 'job stalled more than allowable limit',
    });
  });

  it('keeps waiting on a job that failed an attempt and waits for its retry', () => {
    expect(readJobEnd(job({ failedReason: 'retry: http_503', attemptsMade: 1 }))).toBeUndefined();
    expect(readJobEnd(job({}))).toBeUndefined();
  });

  it('reports a job that vanished as unknown', () => {
    expect(readJobEnd(undefined)?.outcome).toBe('unknown');
  });
});
