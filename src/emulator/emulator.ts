/**
 * A local stand-in for the Huawei DCS API (delete a task, list tasks, list instances) over plain HTTP,
 * for the demo, the tests and the benchmarks. It checks AK/SK signatures like the gateway, throttles per
 * API, injects faults on demand and exposes an unsigned inspection API under /__emulator/.
 * Behaviour and choices where Huawei documents nothing: docs/emulator.md and the headers of
 * dcs-routes.ts (DELETE semantics), auth-guard.ts (lockout) and request-pipeline.ts (order of checks).
 * Production code never imports this folder.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthGuard, type AccessKeyPair } from './auth-guard.js';
import {
  createCredentialIssuer,
  type IssuedSet,
  type TemporaryCredentialOptions,
} from './credential-issuer.js';
import { createEmulatorState, type RemainingTask, type RemainingTaskFilter } from './emulator-state.js';
import { createFaultInjector, type FaultOptions, type ScriptedAnswer } from './fault-injector.js';
import { answerInspection } from './inspection-routes.js';
import { createRateLimiter, type ActiveRateLimit, type RateLimitSettings } from './rate-limiter.js';
import { createRequestPipeline, type PipelineContext, type RequestLogEntry } from './request-pipeline.js';
import { buildSeedInventory, type SeedOptions } from './seed-inventory.js';
import { createRequestIdSource } from './send-answer.js';
import {
  parseEmulatorInstance,
  parseEmulatorStateFile,
  parseEmulatorTask,
  type EmulatorInstance,
  type EmulatorInstanceInput,
  type EmulatorStateFile,
  type EmulatorStateFileInput,
  type EmulatorTask,
  type EmulatorTaskInput,
} from './state-file.js';
import { createStatsRecorder, type EmulatorStats } from './stats-recorder.js';

/** The key pair the emulator accepts when none is configured. Demo values: never a real secret. */
export const DEMO_CREDENTIALS = Object.freeze({
  ak: 'EMULATORDEMOAK000001',
  sk: 'emulator-demo-secret-key-not-a-real-secret',
});

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Accepted key pairs, default {@link DEMO_CREDENTIALS}. */
  credentials?: AccessKeyPair | readonly AccessKeyPair[];
  /** Calls per second per AK and API (delete, list tasks, list instances), sliding; default 200, 0 = no limit. */
  rateLimitPerSecond?: number;
  /** The same as a limit per second or per minute; wins over `rateLimitPerSecond`. */
  rateLimit?: RateLimitSettings;
  /** A generated inventory or a state file; default an empty inventory. */
  seed?: SeedOptions | EmulatorStateFileInput;
  faults?: FaultOptions;
  /** DELETE success: 200 with `{"message":""}` (default) or 204 without a body. */
  deleteSuccessStatus?: 200 | 204;
  /** Clock in ms, for X-Sdk-Date skew, lockouts, rate windows and seeded dates. Default Date.now. */
  now?: () => number;
  /** Failed authentications in a row an AK may have; one more locks it. Default 5. */
  maxAuthFailures?: number;
  /** Default 5 minutes. */
  lockoutMs?: number;
  /** Temporary credentials of the metadata and IAM routes (docs/emulator.md). */
  temporaryCredentials?: TemporaryCredentialOptions;
  /** Called once per answered API request (for debug logs). */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** Project and instance ids, with task counts: what the CLI prints at start. */
export interface InventorySummary {
  projects: { project_id: string; instances: { instance_id: string; name: string; tasks: number }[] }[];
}

/** A task or instance to add; the ids and dates are generated when absent. */
export type TaskToAdd = Partial<EmulatorTaskInput>;
export type InstanceToAdd = Partial<EmulatorInstanceInput>;

export interface Emulator {
  /** `http://host:port`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and destroys every open socket, hung ones included. */
  close(): Promise<void>;
  stats(): EmulatorStats;
  /** Clears counters, lockouts, rate windows and scripts; with `state`, restores the initial inventory. */
  reset(options?: { state?: boolean }): void;
  /** The gateway's throttling in force: calls per AK and API per sliding second or minute (0: off). */
  rateLimit(): ActiveRateLimit;
  /** Replaces it (its windows start empty). */
  setRateLimit(settings: RateLimitSettings): void;
  /** Replaces the fault options (a new `seed` restarts the fault generator). */
  setFaults(faults: FaultOptions): void;
  faults(): FaultOptions;
  /** The next DELETEs of `taskId` give these answers in order, then normal behaviour resumes. */
  scriptTask(taskId: string, answers: ScriptedAnswer[]): void;
  addInstance(projectId: string, instance?: InstanceToAdd): EmulatorInstance;
  addTasks(instanceId: string, tasks: TaskToAdd[]): EmulatorTask[];
  getTask(taskId: string): EmulatorTask | undefined;
  remainingTasks(filter?: RemainingTaskFilter): RemainingTask[];
  /** DELETE requests received for `taskId`, whatever their outcome. */
  deleteRequestCount(taskId: string): number;
  inventory(): InventorySummary;
  exportState(): EmulatorStateFile;
  /** Accepts one more key pair (a rotated key), from now on. */
  addKey(pair: AccessKeyPair): void;
  /** Refuses a key from now on (a revoked key); true when it was accepted. */
  revokeKey(accessKeyId: string): boolean;
  /** Temporary credential sets issued so far by the metadata and IAM routes. */
  credentialsIssued(): number;
  /** Every temporary set issued so far, secrets included (for tests that search for leaks). */
  issuedCredentials(): IssuedSet[];
  /** Lifetime of the temporary credentials issued from now on (undefined: as asked). */
  setCredentialLifetimeMs(lifetimeMs: number | undefined): void;
}

/** Starts an emulator listening on `options.host:options.port`. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const now = options.now ?? Date.now;
  const initial = buildInitialInventory(options.seed, now());
  const keys = options.credentials === undefined ? [DEMO_CREDENTIALS] : [options.credentials].flat();
  const issuer = createCredentialIssuer(options.temporaryCredentials ?? {}, now);
  const ctx: PipelineContext = {
    state: createEmulatorState(initial),
    issuer,
    auth: createAuthGuard({
      keys,
      now,
      lookupTemporary: (ak) => issuer.lookup(ak),
      maxFailures: options.maxAuthFailures ?? 5,
      lockoutMs: options.lockoutMs ?? 5 * 60_000,
    }),
    limiter: createRateLimiter(options.rateLimit ?? { limit: options.rateLimitPerSecond ?? 200 }, now),
    faults: createFaultInjector(options.faults),
    stats: createStatsRecorder(),
    nextRequestId: createRequestIdSource(),
    deleteSuccessStatus: options.deleteSuccessStatus ?? 200,
    timers: new Set(),
    onRequest: options.onRequest,
  };

  const emulator: Omit<Emulator, 'url' | 'port' | 'close'> = {
    stats() {
      const byStatus = ctx.state.countByStatus();
      const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
      return ctx.stats.snapshot({
        tasksLeft: { total, byStatus },
        lockedAccessKeys: ctx.auth.lockedAccessKeys(),
      });
    },
    reset(resetOptions = {}) {
      ctx.stats.reset();
      ctx.auth.reset();
      ctx.limiter.reset();
      ctx.faults.clearScripts();
      if (resetOptions.state) ctx.state = createEmulatorState(initial);
    },
    rateLimit: () => ctx.limiter.settings(),
    setRateLimit: (settings) => ctx.limiter.set(settings),
    setFaults: (faults) => ctx.faults.set(faults),
    faults: () => ctx.faults.current(),
    scriptTask: (taskId, answers) => ctx.faults.script(taskId, answers),
    addInstance(projectId, instance = {}) {
      const parsed = parseEmulatorInstance({ instance_id: randomUUID(), ...instance });
      ctx.state.addInstance(projectId, parsed);
      return parsed;
    },
    addTasks(instanceId, tasks) {
      const createdAt = new Date(now() - 3_600_000).toISOString();
      const parsed = tasks.map((task, i) =>
        parseEmulatorTask(
          { id: randomBytes(16).toString('hex'), status: 'SUCCESS', created_at: createdAt, ...task },
          `tasks[${i}]`,
        ),
      );
      for (const task of parsed) ctx.state.addTask(instanceId, task);
      return parsed;
    },
    getTask: (taskId) => ctx.state.findTask(taskId)?.task,
    remainingTasks: (filter) => ctx.state.listRemaining(filter),
    deleteRequestCount: (taskId) => ctx.stats.deleteRequestCount(taskId),
    inventory: () => summarize(ctx.state.toStateFile()),
    exportState: () => ctx.state.toStateFile(),
    addKey: (pair) => ctx.auth.addKey(pair),
    revokeKey: (ak) => ctx.auth.revokeKey(ak),
    credentialsIssued: () => issuer.issuedCount(),
    issuedCredentials: () => issuer.issuedSets(),
    setCredentialLifetimeMs: (ms) => issuer.setLifetimeMs(ms),
  };

  const server = createServer(
    createRequestPipeline(ctx, (method, path, query, body, res) =>
      answerInspection(emulator, method, path, query, body, res),
    ),
  );
  const address = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    ...emulator,
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () => (closing ??= closeServer(server, ctx.timers)),
  };
}

function buildInitialInventory(seed: EmulatorOptions['seed'], nowMs: number): EmulatorStateFile | undefined {
  if (seed === undefined) return undefined;
  if ('instances' in seed) return buildSeedInventory(seed, nowMs);
  return parseEmulatorStateFile(seed);
}

function summarize(file: EmulatorStateFile): InventorySummary {
  return {
    projects: file.projects.map((p) => ({
      project_id: p.project_id,
      instances: p.instances.map((i) => ({
        instance_id: i.instance_id,
        name: i.name,
        tasks: i.tasks.length,
      })),
    })),
  };
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Hung and keep-alive sockets would otherwise hold close() open until the clients give up.
    server.closeAllConnections();
  });
}
