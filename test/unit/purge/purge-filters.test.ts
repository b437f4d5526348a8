import { describe, expect, it } from 'vitest';
import {
  buildCreatedBefore,
  buildTaskSelector,
  parsePurgeFilters,
  type TaskFacts,
} from '../../../src/purge/purge-filters.js';
import { isCleanupError } from '../../../src/errors.js';

const NOW = new Date('2026-11-27T10:15:00.000Z');
const DAY = 86_400_000;
const STATUSES = ['SUCCESS', 'FAILED', 'EXECUTING', 'WAITING', 'CREATED'];

function task(overrides: Partial<TaskFacts> = {}): TaskFacts {
  return {
    instanceId: 'inst-a',
    name: 'EXTEND',
    status: 'SUCCESS',
    createdAt: new Date(NOW.getTime() - 40 * DAY),
    ...overrides,
  };
}

function selector(raw: Parameters<typeof parsePurgeFilters>[0] = {}) {
  return buildTaskSelector(parsePurgeFilters(raw), NOW);
}

describe('parsePurgeFilters', () => {
  it('defaults to the two final statuses and no other filter', () => {
    expect(parsePurgeFilters({})).toEqual({
      statuses: ['SUCCESS', 'FAILED'],
      names: [],
      exclude_instances: [],
    });
  });

  it('normalises status case and drops repeats', () => {
    expect(parsePurgeFilters({ status: ['failed', 'FAILED'] }).statuses).toEqual(['FAILED']);
  });

  it.each(['EXECUTING', 'waiting', 'CREATED'])(
    'refuses --status %s as a usage error naming the rule',
    (status) => {
      let error: unknown;
      try {
        parsePurgeFilters({ status: [status] });
      } catch (err) {
        error = err;
      }
      expect(isCleanupError(error, 'INVALID_INPUT')).toBe(true);
      expect((error as Error).message).toMatch(/never deleted/);
    },
  );

  it('refuses an unknown status and a malformed duration', () => {
    expect(() => parsePurgeFilters({ status: ['DONE'] })).toThrow(/expected SUCCESS or FAILED/);
    expect(() => parsePurgeFilters({ olderThan: '30 days' })).toThrow(/--older-than/);
    expect(() => parsePurgeFilters({ olderThan: '0d' })).toThrow(/positive/);
  });
});

describe('buildTaskSelector', () => {
  it.each(STATUSES)('with default filters, selects %s only when it is final', (status) => {
    const verdict = selector()(task({ status }));
    expect(verdict).toBe(status === 'SUCCESS' || status === 'FAILED' ? 'selected' : 'unfinished');
  });

  it('never selects an unfinished task, whatever else matches', () => {
    const select = selector({ olderThan: '1h', name: ['EXTEND'], status: ['SUCCESS', 'FAILED'] });
    for (const status of ['EXECUTING', 'WAITING', 'CREATED', 'RUNNING', '']) {
      expect(select(task({ status }))).not.toBe('selected');
    }
  });

  it('counts as unfinished only the tasks every other filter selects', () => {
    const select = selector({ olderThan: '30d' });
    expect(select(task({ status: 'EXECUTING' }))).toBe('unfinished');
    expect(select(task({ status: 'EXECUTING', createdAt: new Date(NOW.getTime() - DAY) }))).toBe('excluded');
  });

  it('with --status FAILED, leaves SUCCESS out', () => {
    const select = selector({ status: ['FAILED'] });
    expect(select(task({ status: 'FAILED' }))).toBe('selected');
    expect(select(task({ status: 'SUCCESS' }))).toBe('excluded');
  });

  it('cuts on age strictly: exactly --older-than old is not selected, a millisecond more is', () => {
    const select = selector({ olderThan: '30d' });
    const at = (ageMs: number) => task({ createdAt: new Date(NOW.getTime() - ageMs) });
    expect(select(at(30 * DAY))).toBe('excluded');
    expect(select(at(30 * DAY + 1))).toBe('selected');
    expect(select(at(30 * DAY - 1))).toBe('excluded');
    expect(select(at(-DAY))).toBe('excluded');
  });

  it('handles hour durations and combined ones', () => {
    const select = selector({ olderThan: '1d12h' });
    expect(select(task({ createdAt: new Date(NOW.getTime() - 36 * 3_600_000 - 1) }))).toBe('selected');
    expect(select(task({ createdAt: new Date(NOW.getTime() - 35 * 3_600_000) }))).toBe('excluded');
  });

  it('matches names case-insensitively, any of the given ones', () => {
    const select = selector({ name: ['extend', 'BindEip'] });
    expect(select(task({ name: 'EXTEND' }))).toBe('selected');
    expect(select(task({ name: 'bindeip' }))).toBe('selected');
    expect(select(task({ name: 'UnBindEip' }))).toBe('excluded');
  });

  it('never selects a task of an excluded instance', () => {
    const select = selector({ excludeInstance: ['inst-b'] });
    expect(select(task({ instanceId: 'inst-a' }))).toBe('selected');
    expect(select(task({ instanceId: 'inst-b' }))).toBe('excluded');
  });

  it('ANDs every filter', () => {
    const select = selector({
      olderThan: '7d',
      status: ['FAILED'],
      name: ['EXTEND'],
      excludeInstance: ['inst-x'],
    });
    expect(select(task({ status: 'FAILED' }))).toBe('selected');
    expect(select(task({ status: 'FAILED', name: 'modify' }))).toBe('excluded');
    expect(select(task({ status: 'FAILED', instanceId: 'inst-x' }))).toBe('excluded');
    expect(select(task({ status: 'FAILED', createdAt: new Date(NOW.getTime() - DAY) }))).toBe('excluded');
  });
});

describe('buildCreatedBefore', () => {
  it('is the age cut as a date, or undefined without --older-than', () => {
    expect(buildCreatedBefore(parsePurgeFilters({ olderThan: '2d' }), NOW)).toEqual(
      new Date(NOW.getTime() - 2 * DAY),
    );
    expect(buildCreatedBefore(parsePurgeFilters({}), NOW)).toBeUndefined();
  });
});
