import { CleanupError } from '../errors.js';
import { createPrng, type Prng } from './prng.js';
import {
  PROJECT_ID_PATTERN,
  TASK_NAMES,
  type EmulatorInstance,
  type EmulatorStateFile,
  type EmulatorTask,
  type TaskStatus,
} from './state-file.js';

/** A generated inventory: the same options and clock always give the same ids, statuses and dates. */
export interface SeedOptions {
  /** The first project's id; the others (and this one when absent) come from the generator. */
  projectId?: string;
  /** Number of projects, default 1. */
  projects?: number;
  /** Instances per project. */
  instances: number;
  tasksPerInstance: number;
  /** Generator seed, default 1. */
  seed?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Task ages run from an hour to about six months, spread evenly on a log scale. */
const MIN_AGE_MS = HOUR_MS;
const MAX_AGE_MS = 180 * DAY_MS;
const MAX_TASKS = 2_000_000;

/** Cumulative shares: mostly finished work, a tenth failed, a few still pending or running. */
const STATUS_SHARES: readonly [TaskStatus, number][] = [
  ['SUCCESS', 0.85],
  ['FAILED', 0.95],
  ['EXECUTING', 0.97],
  ['WAITING', 0.985],
  ['CREATED', 1],
];

/** Builds a deterministic inventory relative to `nowMs`; INVALID_INPUT on nonsense counts. */
export function buildSeedInventory(options: SeedOptions, nowMs: number): EmulatorStateFile {
  const projectCount = options.projects ?? 1;
  checkCount('projects', projectCount, 1_000);
  checkCount('instances', options.instances, 100_000);
  checkCount('tasksPerInstance', options.tasksPerInstance, MAX_TASKS);
  if (projectCount * options.instances * options.tasksPerInstance > MAX_TASKS) {
    throw new CleanupError('INVALID_INPUT', `a seed may hold at most ${MAX_TASKS} tasks`, {
      field: 'tasksPerInstance',
    });
  }
  if (options.projectId !== undefined && !PROJECT_ID_PATTERN.test(options.projectId)) {
    throw new CleanupError('INVALID_INPUT', 'projectId must be 32 lower-case hex characters or a UUID', {
      field: 'projectId',
    });
  }
  const prng = createPrng(options.seed ?? 1);
  const projects: EmulatorStateFile['projects'] = [];
  for (let p = 0; p < projectCount; p++) {
    const projectId = (p === 0 ? options.projectId : undefined) ?? prng.nextHex(32);
    const userId = prng.nextHex(32);
    const instances = [];
    for (let i = 0; i < options.instances; i++) {
      const instance = buildInstance(prng, `dcs-demo-${p + 1}-${i + 1}`, nowMs);
      const tasks = [];
      for (let t = 0; t < options.tasksPerInstance; t++) tasks.push(buildTask(prng, userId, nowMs));
      instances.push({ ...instance, tasks });
    }
    projects.push({ project_id: projectId, instances });
  }
  return { projects };
}

function buildInstance(prng: Prng, name: string, nowMs: number): EmulatorInstance {
  const hex = prng.nextHex(32);
  // Version 4 UUID layout, so the ids look like the real ones.
  const variant = '89ab'[prng.nextInt(4)] ?? '8';
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20)}`;
  return {
    instance_id: id,
    name,
    status: 'RUNNING',
    engine: 'Redis',
    engine_version: '6.0',
    created_at: new Date(nowMs - MAX_AGE_MS - prng.nextInt(365) * DAY_MS).toISOString(),
    enterprise_project_id: '0',
  };
}

function buildTask(prng: Prng, userId: string, nowMs: number): EmulatorTask {
  const id = prng.nextHex(32);
  const name = TASK_NAMES[prng.nextInt(TASK_NAMES.length)] ?? 'modify';
  const status = pickStatus(prng.next());
  const ageMs = Math.exp(Math.log(MIN_AGE_MS) + prng.next() * Math.log(MAX_AGE_MS / MIN_AGE_MS));
  const createdAtMs = Math.round(nowMs - ageMs);
  const finished = status === 'SUCCESS' || status === 'FAILED';
  const updatedAtMs = finished ? createdAtMs + 2_000 + prng.nextInt(600_000) : createdAtMs;
  const details = buildDetails(name, prng);
  return {
    id,
    name,
    details,
    user_name: 'demo-user',
    user_id: userId,
    params: JSON.stringify(details),
    status,
    created_at: new Date(createdAtMs).toISOString(),
    updated_at: new Date(Math.min(updatedAtMs, nowMs)).toISOString(),
    enable_show: true,
  };
}

function pickStatus(u: number): TaskStatus {
  for (const [status, upTo] of STATUS_SHARES) if (u < upTo) return status;
  return 'SUCCESS';
}

function buildDetails(name: string, prng: Prng): Record<string, unknown> {
  switch (name) {
    case 'EXTEND': {
      const old = 1 + prng.nextInt(8);
      return { old_capacity: String(old), new_capacity: String(old * 2) };
    }
    case 'UpdatePort':
      return { old_port: 6379, new_port: 6380 + prng.nextInt(100) };
    case 'AddReplica':
    case 'DelReplica':
      return { old_replica_num: '2', new_replica_num: name === 'AddReplica' ? '3' : '1' };
    case 'BindEip':
      return { enable_public_ip: true, public_ip_address: `192.0.2.${1 + prng.nextInt(254)}` };
    default:
      return {};
  }
}

function checkCount(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new CleanupError('INVALID_INPUT', `${field} must be an integer from 0 to ${max}, got ${value}`, {
      field,
    });
  }
}
