import type { TaskStatus } from './state-file.js';

/** What `GET /__emulator/stats` returns. */
export interface EmulatorStats {
  requests: {
    total: number;
    /** route (`delete`, `listTasks`, `listInstances`, `unknown`) -> status (or `reset`, `hang`) -> count. */
    byRoute: Record<string, Record<string, number>>;
  };
  deletions: {
    /** Tasks actually removed. */
    count: number;
    /** DELETE requests received per task id (any outcome, authenticated or not). */
    requestsByTask: Record<string, number>;
  };
  tasksLeft: { total: number; byStatus: Record<TaskStatus, number> };
  /** 401 answers, lockouts included. */
  authFailures: number;
  /** 401 answers by the AK the request named (several accounts: which key failed how often). */
  authFailuresByAccessKey: Record<string, number>;
  lockedAccessKeys: string[];
  /** 429 answers from the rate limit (injected 429s are under `faults.throttle`). */
  throttled: number;
  /** Injected faults by kind, and `scripted` answers given. */
  faults: Record<string, number>;
}

export type AnswerStatus = number | 'reset' | 'hang';

export interface StatsRecorder {
  recordRequest(route: string, status: AnswerStatus): void;
  recordDeleteRequest(taskId: string): void;
  recordDeletion(): void;
  recordAuthFailure(accessKeyId?: string): void;
  recordThrottled(): void;
  recordFault(kind: string): void;
  deleteRequestCount(taskId: string): number;
  snapshot(current: Pick<EmulatorStats, 'tasksLeft' | 'lockedAccessKeys'>): EmulatorStats;
  reset(): void;
}

/** Counters only: every record is O(1), the snapshot copies them. */
export function createStatsRecorder(): StatsRecorder {
  let total = 0;
  let deletions = 0;
  let authFailures = 0;
  let throttled = 0;
  const byRoute = new Map<string, Map<string, number>>();
  const deleteRequests = new Map<string, number>();
  const faults = new Map<string, number>();
  const failuresByKey = new Map<string, number>();

  return {
    recordRequest(route, status) {
      total += 1;
      let statuses = byRoute.get(route);
      if (statuses === undefined) {
        statuses = new Map<string, number>();
        byRoute.set(route, statuses);
      }
      increment(statuses, String(status));
    },
    recordDeleteRequest: (taskId) => increment(deleteRequests, taskId),
    recordDeletion: () => void (deletions += 1),
    recordAuthFailure(accessKeyId) {
      authFailures += 1;
      if (accessKeyId !== undefined) increment(failuresByKey, accessKeyId);
    },
    recordThrottled: () => void (throttled += 1),
    recordFault: (kind) => increment(faults, kind),
    deleteRequestCount: (taskId) => deleteRequests.get(taskId) ?? 0,
    snapshot: (current) => ({
      requests: {
        total,
        byRoute: Object.fromEntries([...byRoute].map(([route, s]) => [route, Object.fromEntries(s)])),
      },
      deletions: { count: deletions, requestsByTask: Object.fromEntries(deleteRequests) },
      tasksLeft: current.tasksLeft,
      authFailures,
      authFailuresByAccessKey: Object.fromEntries(failuresByKey),
      lockedAccessKeys: current.lockedAccessKeys,
      throttled,
      faults: Object.fromEntries(faults),
    }),
    reset() {
      total = deletions = authFailures = throttled = 0;
      byRoute.clear();
      deleteRequests.clear();
      faults.clear();
      failuresByKey.clear();
    },
  };
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
