import { describe, expect, it } from 'vitest';
import { parseEmulatorStateFile, parseEmulatorTask } from '../../../src/emulator/state-file.js';

const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const INSTANCE = '3f8c2a1e-6b7d-4c5e-9a0b-1c2d3e4f5a6b';
const TASK = 'ff8080818f1e2d3c018f1e4b5a6c0001';

describe('parseEmulatorStateFile', () => {
  it('fills the defaults of a minimal file and normalises dates to milliseconds', () => {
    const file = parseEmulatorStateFile({
      projects: [
        {
          project_id: PROJECT,
          instances: [
            {
              instance_id: INSTANCE,
              tasks: [{ id: TASK, status: 'SUCCESS', created_at: '2025-01-01T10:00:00Z' }],
            },
          ],
        },
      ],
    });
    const instance = file.projects[0]!.instances[0]!;
    expect(instance).toMatchObject({
      name: 'dcs-emulated',
      status: 'RUNNING',
      engine: 'Redis',
      enterprise_project_id: '0',
    });
    expect(instance.tasks[0]).toEqual({
      id: TASK,
      name: 'modify',
      details: {},
      user_name: 'emulator',
      user_id: '0'.repeat(32),
      params: '{}',
      status: 'SUCCESS',
      created_at: '2025-01-01T10:00:00.000Z',
      updated_at: '2025-01-01T10:00:00.000Z',
      enable_show: true,
    });
  });

  it('names every bad field with its path', () => {
    const bad = {
      projects: [
        {
          project_id: 'project-1',
          instances: [
            { instance_id: INSTANCE, tasks: [{ id: TASK, status: 'DONE', created_at: 'yesterday' }] },
          ],
        },
      ],
    };
    expect(() => parseEmulatorStateFile(bad, 'state file x.json')).toThrow(
      /invalid state file x\.json:[\s\S]*projects\.0\.project_id[\s\S]*tasks\.0\.status[\s\S]*tasks\.0\.created_at/,
    );
    expect(() => parseEmulatorStateFile({ nothing: true })).toThrow(/projects/);
  });

  it('refuses a task id that is not 32 lower-case hex characters', () => {
    expect(() =>
      parseEmulatorTask({ id: TASK.toUpperCase(), status: 'SUCCESS', created_at: '2025-01-01T00:00:00Z' }),
    ).toThrow(/id: must be 32 lower-case hex/);
  });
});
