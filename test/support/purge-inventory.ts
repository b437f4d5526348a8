/**
 * A realistic mixed inventory for purge and schedule tests, and an oracle that computes from the
 * emulator's own view which tasks a purge should select (written independently of src/purge).
 */
import { DEMO_CREDENTIALS, type Emulator } from '../../src/emulator/emulator.js';
import type { RemainingTask } from '../../src/emulator/emulator-state.js';
import { REDIS_URL } from './redis-prefix.js';

export const PURGE_PROJECT_ID = '5e0c2a7b9d1f43e8a6b0c4d2e8f1a3b5';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STATUSES = ['SUCCESS', 'FAILED', 'EXECUTING', 'WAITING', 'CREATED'] as const;
const NAMES = ['EXTEND', 'BindEip', 'UnBindEip', 'AddReplica', 'modify'] as const;
/** Ages of the hand-placed tasks: hours to months, well away from the 7d and 30d cuts the tests use. */
const AGES_MS = [2 * HOUR, 3 * DAY, 10 * DAY, 45 * DAY, 120 * DAY];

/** Generated instances (mostly finished tasks, ages from an hour to six months). */
export const SEED = { projectId: PURGE_PROJECT_ID, instances: 4, tasksPerInstance: 50, seed: 7 };

/**
 * Adds every status at every age on every instance (25 tasks each), names cycling, so each filter
 * has something on both sides of it. With SEED: 4 instances, 300 tasks.
 */
export function addEveryStatusAndAge(emulator: Emulator): void {
  const now = Date.now();
  const instances =
    emulator.inventory().projects.find((p) => p.project_id === PURGE_PROJECT_ID)?.instances ?? [];
  for (const instance of instances) {
    const tasks = STATUSES.flatMap((status, s) =>
      AGES_MS.map((age, a) => ({
        status,
        name: NAMES[(s + a) % NAMES.length]!,
        created_at: new Date(now - age).toISOString(),
      })),
    );
    emulator.addTasks(instance.instance_id, tasks);
  }
}

export interface Expectation {
  olderThanMs?: number;
  statuses?: readonly string[];
  names?: readonly string[];
  instances?: readonly string[];
  excludeInstances?: readonly string[];
}

/** Ids of the remaining tasks a purge with these filters must select, from the emulator's view. */
export function expectedSelection(emulator: Emulator, e: Expectation, now = Date.now()): Set<string> {
  const statuses = e.statuses ?? ['SUCCESS', 'FAILED'];
  const names = e.names?.map((n) => n.toLowerCase());
  const keep = (t: RemainingTask): boolean =>
    statuses.includes(t.status) &&
    (t.status === 'SUCCESS' || t.status === 'FAILED') &&
    (e.olderThanMs === undefined || Date.parse(t.created_at) < now - e.olderThanMs) &&
    (names === undefined || names.includes(t.name.toLowerCase())) &&
    (e.instances === undefined || e.instances.includes(t.instance_id)) &&
    !(e.excludeInstances ?? []).includes(t.instance_id);
  return new Set(
    emulator
      .remainingTasks({ projectId: PURGE_PROJECT_ID })
      .filter(keep)
      .map((t) => t.id),
  );
}

/** Ids of the remaining tasks that are not final. */
export function unfinishedIds(emulator: Emulator): Set<string> {
  const all = emulator.remainingTasks({ projectId: PURGE_PROJECT_ID });
  return new Set(all.filter((t) => t.status !== 'SUCCESS' && t.status !== 'FAILED').map((t) => t.id));
}

/** The instance ids of the inventory, in insertion order. */
export function instanceIds(emulator: Emulator): string[] {
  return emulator
    .inventory()
    .projects.find((p) => p.project_id === PURGE_PROJECT_ID)!
    .instances.map((i) => i.instance_id);
}

/** Environment for `dcs-cleanup` child processes pointed at this emulator and prefix. */
export function cliEnv(emulator: Emulator, prefix: string): Record<string, string> {
  return {
    REDIS_URL,
    CLEANUP_PREFIX: prefix,
    CLOUD_SDK_AK: DEMO_CREDENTIALS.ak,
    CLOUD_SDK_SK: DEMO_CREDENTIALS.sk,
    DCS_ENDPOINT: emulator.url,
    DCS_PROJECT_ID: PURGE_PROJECT_ID,
    LOG_LEVEL: 'silent',
  };
}

export const DAY_MS = DAY;
