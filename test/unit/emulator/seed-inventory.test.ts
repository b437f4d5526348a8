import { describe, expect, it } from 'vitest';
import { buildSeedInventory } from '../../../src/emulator/seed-inventory.js';
import {
  INSTANCE_ID_PATTERN,
  PROJECT_ID_PATTERN,
  TASK_ID_PATTERN,
  TASK_NAMES,
} from '../../../src/emulator/state-file.js';

const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const HOUR = 3_600_000;

describe('buildSeedInventory', () => {
  it('is deterministic: the same options and clock give the same inventory', () => {
    const options = { instances: 3, tasksPerInstance: 50, seed: 5 };
    expect(buildSeedInventory(options, NOW)).toEqual(buildSeedInventory(options, NOW));
    expect(buildSeedInventory({ ...options, seed: 6 }, NOW)).not.toEqual(buildSeedInventory(options, NOW));
  });

  it('builds the asked projects, instances and tasks with real-looking, unique ids', () => {
    const file = buildSeedInventory({ projects: 2, instances: 3, tasksPerInstance: 40 }, NOW);
    expect(file.projects).toHaveLength(2);
    const tasks = file.projects.flatMap((p) => p.instances.flatMap((i) => i.tasks));
    expect(tasks).toHaveLength(2 * 3 * 40);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length);
    for (const project of file.projects) {
      expect(project.project_id).toMatch(PROJECT_ID_PATTERN);
      for (const instance of project.instances) expect(instance.instance_id).toMatch(INSTANCE_ID_PATTERN);
    }
    expect(
      tasks.filter((t) => !TASK_ID_PATTERN.test(t.id) || !(TASK_NAMES as readonly string[]).includes(t.name)),
    ).toEqual([]);
    expect(tasks.every((t) => typeof JSON.parse(t.params) === 'object')).toBe(true);
  });

  it('uses the given project id for the first project', () => {
    const file = buildSeedInventory({ projectId: 'ab'.repeat(16), instances: 1, tasksPerInstance: 1 }, NOW);
    expect(file.projects[0]!.project_id).toBe('ab'.repeat(16));
    expect(() => buildSeedInventory({ projectId: 'nope', instances: 1, tasksPerInstance: 1 }, NOW)).toThrow(
      /projectId/,
    );
  });

  it('spreads statuses realistically: mostly SUCCESS, some FAILED, a few unfinished', () => {
    const tasks = buildSeedInventory(
      { instances: 10, tasksPerInstance: 1000 },
      NOW,
    ).projects[0]!.instances.flatMap((i) => i.tasks);
    const share = (status: string) => tasks.filter((t) => t.status === status).length / tasks.length;
    expect(share('SUCCESS')).toBeGreaterThan(0.8);
    expect(share('FAILED')).toBeGreaterThan(0.07);
    expect(share('FAILED')).toBeLessThan(0.13);
    const unfinished = share('EXECUTING') + share('WAITING') + share('CREATED');
    expect(unfinished).toBeGreaterThan(0.02);
    expect(unfinished).toBeLessThan(0.08);
    for (const status of ['EXECUTING', 'WAITING', 'CREATED']) expect(share(status)).toBeGreaterThan(0);
  });

  it('dates tasks from an hour to about six months before now, in ISO-8601 UTC with milliseconds', () => {
    const tasks = buildSeedInventory(
      { instances: 2, tasksPerInstance: 2000 },
      NOW,
    ).projects[0]!.instances.flatMap((i) => i.tasks);
    const ages = tasks.map((t) => NOW - Date.parse(t.created_at));
    expect(Math.min(...ages)).toBeGreaterThanOrEqual(HOUR - 1);
    expect(Math.max(...ages)).toBeLessThanOrEqual(180 * 24 * HOUR);
    expect(ages.filter((a) => a < 24 * HOUR).length).toBeGreaterThan(0);
    expect(ages.filter((a) => a > 30 * 24 * HOUR).length).toBeGreaterThan(0);
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
    expect(tasks.filter((t) => !iso.test(t.created_at))).toEqual([]);
    expect(tasks.filter((t) => Date.parse(t.updated_at) < Date.parse(t.created_at))).toEqual([]);
  });

  it('refuses negative or fractional counts', () => {
    expect(() => buildSeedInventory({ instances: -1, tasksPerInstance: 1 }, NOW)).toThrow(/instances/);
    expect(() => buildSeedInventory({ instances: 1, tasksPerInstance: 1.5 }, NOW)).toThrow(
      /tasksPerInstance/,
    );
  });
});
