import { describe, expect, it } from 'vitest';
import { matchDcsRoute, parseCompactTime, parsePage, parseWindow } from '../../../src/emulator/dcs-routes.js';

describe('matchDcsRoute', () => {
  it('matches the three calls by method and path', () => {
    expect(matchDcsRoute('GET', '/v2/p/instances')).toEqual({ route: 'listInstances', projectId: 'p' });
    expect(matchDcsRoute('GET', '/v2/p/instances/i/tasks')).toEqual({
      route: 'listTasks',
      projectId: 'p',
      instanceId: 'i',
    });
    expect(matchDcsRoute('DELETE', '/v2/p/instances/i/tasks/t')).toEqual({
      route: 'delete',
      projectId: 'p',
      instanceId: 'i',
      taskId: 't',
    });
  });

  it.each([
    ['DELETE', '/v2/p/instances'],
    ['GET', '/v2/p/instances/i/tasks/t'],
    ['GET', '/v2/p/instances/'],
    ['GET', '/v2//instances'],
    ['DELETE', '/v2/p/instances/i/tasks/'],
    ['GET', '/v1/p/instances'],
  ])('does not match %s %s', (method, path) => {
    expect(matchDcsRoute(method, path)).toBeUndefined();
  });
});

describe('query parsing', () => {
  it('defaults offset to 0 and limit to 10 and bounds limit to 1..1000', () => {
    expect(parsePage(new URLSearchParams())).toEqual({ offset: 0, limit: 10 });
    expect(parsePage(new URLSearchParams('offset=20&limit=1000'))).toEqual({ offset: 20, limit: 1000 });
    for (const q of ['limit=0', 'limit=1001', 'offset=-1', 'limit=1e3', 'offset=']) {
      expect(parsePage(new URLSearchParams(q))).toBeUndefined();
    }
  });

  it('reads yyyyMMddHHmmss as UTC and refuses impossible dates', () => {
    expect(parseCompactTime('20200609160000')).toBe(Date.parse('2020-06-09T16:00:00Z'));
    for (const bad of [
      '2020060916000',
      '20201301000000',
      '20200230000000',
      '20200609246000',
      '20200609160060',
    ]) {
      expect(parseCompactTime(bad)).toBeNaN();
    }
  });

  it('makes the end second inclusive and refuses a start after the end', () => {
    expect(parseWindow(new URLSearchParams('start_time=20200609160000&end_time=20200609160000'))).toEqual({
      startMs: Date.parse('2020-06-09T16:00:00Z'),
      endMs: Date.parse('2020-06-09T16:00:00.999Z'),
    });
    expect(
      parseWindow(new URLSearchParams('start_time=20200609160001&end_time=20200609160000')),
    ).toBeUndefined();
  });
});
