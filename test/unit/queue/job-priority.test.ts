import { describe, expect, it } from 'vitest';
import { parseJobData, parseTaskInput } from '../../../src/queue/job-contract.js';
import { isCleanupError } from '../../../src/errors.js';

const task = { project_id: 'p1', instance_id: 'i1', task_id: 't1' };

describe('the priority of the job contract', () => {
  it('accepts urgent and bulk, and no priority at all (bulk)', () => {
    expect(parseJobData({ schema_version: 1, ...task, priority: 'urgent' }).priority).toBe('urgent');
    expect(parseJobData({ schema_version: 1, ...task, priority: 'bulk' }).priority).toBe('bulk');
    expect(parseJobData({ schema_version: 1, ...task }).priority).toBeUndefined();
  });

  it('refuses another lane from a foreign producer, naming the field (the job is dead-lettered, not run)', () => {
    let caught: unknown;
    try {
      parseJobData({ schema_version: 1, ...task, priority: 'now' });
    } catch (err) {
      caught = err;
    }
    expect(isCleanupError(caught, 'INVALID_JOB')).toBe(true);
    expect((caught as { field?: string }).field).toBe('priority');
    expect((caught as Error).message).toContain('priority: must be urgent or bulk');
  });

  it('names the item of an input with a bad priority', () => {
    expect(() => parseTaskInput({ ...task, priority: 'URGENT' }, 'tasks[2]')).toThrow(
      'tasks[2].priority: must be urgent or bulk',
    );
  });
});
