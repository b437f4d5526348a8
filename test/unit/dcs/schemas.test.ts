import { describe, expect, it } from 'vitest';
import { parseInstancePage, parseTaskPage } from '../../../src/dcs/schemas.js';

const REF = { projectId: 'p1', instanceId: 'i1' };
const TASK = {
  id: '8abf6e1e72c12e7c0172c15b508500aa',
  name: 'BindEip',
  details: { old_capacity: '2' },
  user_name: 'admin',
  user_id: 'u1',
  params: '{"eip":"1.2.3.4"}',
  status: 'FAILED',
  created_at: '2020-06-17T07:38:42.503Z',
  updated_at: '2020-06-17T07:40:00Z',
  enable_show: true,
  unexpected_new_field: [1, 2],
};

describe('parseTaskPage', () => {
  it('reads a documented page: task_count as a string, dates as Dates, extra fields ignored', () => {
    const result = parseTaskPage(JSON.stringify({ task_count: '12', tasks: [TASK] }), REF);
    expect(result).toEqual({
      ok: true,
      page: {
        total: 12,
        items: [
          {
            id: TASK.id,
            name: 'BindEip',
            status: 'FAILED',
            createdAt: new Date('2020-06-17T07:38:42.503Z'),
            updatedAt: new Date('2020-06-17T07:40:00Z'),
            projectId: 'p1',
            instanceId: 'i1',
            userName: 'admin',
            params: '{"eip":"1.2.3.4"}',
          },
        ],
      },
    });
  });

  it('accepts a numeric task_count, null optional fields and a missing task list', () => {
    const minimal = { ...TASK, updated_at: null, user_name: null, params: null };
    expect(parseTaskPage(JSON.stringify({ task_count: 1, tasks: [minimal] }), REF)).toMatchObject({
      ok: true,
      page: { total: 1, items: [{ updatedAt: undefined, userName: undefined, params: undefined }] },
    });
    expect(parseTaskPage('{"task_count":"0"}', REF)).toEqual({ ok: true, page: { total: 0, items: [] } });
  });

  it.each([
    ['not JSON', '<html>', 'body is not JSON'],
    ['an array', '[]', '(body)'],
    ['a negative count', '{"task_count":"-1","tasks":[]}', 'task_count'],
    [
      'a task without id',
      JSON.stringify({ task_count: '1', tasks: [{ ...TASK, id: undefined }] }),
      'tasks.0.id',
    ],
    [
      'an unreadable date',
      JSON.stringify({ task_count: '1', tasks: [{ ...TASK, created_at: 'yesterday' }] }),
      'created_at',
    ],
    [
      'a date without zone',
      JSON.stringify({ task_count: '1', tasks: [{ ...TASK, created_at: '2020-06-17T07:38:42' }] }),
      'created_at',
    ],
  ])('describes %s as a problem', (_what, text, where) => {
    const result = parseTaskPage(text, REF);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(where);
  });
});

describe('parseInstancePage', () => {
  it('reads a page and drops an unreadable created_at rather than failing', () => {
    const body = {
      instance_num: 2,
      instances: [
        {
          instance_id: 'a',
          name: 'n1',
          status: 'RUNNING',
          engine: 'Redis',
          created_at: '2022-07-06T09:32:16.502Z',
        },
        {
          instance_id: 'b',
          name: 'n2',
          status: 'FROZEN',
          created_at: 'not a date',
          enterprise_project_id: '0',
        },
      ],
    };
    const result = parseInstancePage(JSON.stringify(body), 'p1');
    expect(result).toMatchObject({
      ok: true,
      page: {
        total: 2,
        items: [
          {
            instanceId: 'a',
            engine: 'Redis',
            createdAt: new Date('2022-07-06T09:32:16.502Z'),
            projectId: 'p1',
          },
          { instanceId: 'b', engine: undefined, createdAt: undefined, enterpriseProjectId: '0' },
        ],
      },
    });
  });

  it('refuses an instance without an id', () => {
    const result = parseInstancePage(
      '{"instance_num":1,"instances":[{"name":"x","status":"RUNNING"}]}',
      'p1',
    );
    expect(result).toMatchObject({ ok: false, problem: expect.stringContaining('instance_id') });
  });
});
