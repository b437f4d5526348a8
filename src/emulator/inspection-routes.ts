/**
 * The unsigned inspection API under /__emulator/, for tests and scripts in other processes:
 *   GET  /__emulator/stats                              counters (EmulatorStats)
 *   POST /__emulator/reset[?state=true]                 counters, lockouts, windows, scripts (and inventory)
 *   GET  /__emulator/faults   POST /__emulator/faults   current fault options / replace them (JSON body)
 *   GET  /__emulator/rate-limit   POST /__emulator/rate-limit {"limit": n, "per": "second"|"minute",
 *                                 "accessKeys"?: {"<AK>": n}}
 *                                 the gateway throttling per AK and API (sliding window; 0 = off)
 *   GET  /__emulator/tasks?project=&instance=&status=   remaining tasks
 *   POST /__emulator/scripts                            {"task_id": "...", "answers": [ScriptedAnswer, ...]}
 *   GET  /__emulator/inventory                          projects, instances and their task counts
 *   POST /__emulator/keys          {"ak","sk","security_token"?}   accept one more key pair
 *   POST /__emulator/keys/revoke   {"ak"}                          refuse a key from now on
 *   GET  /__emulator/credentials   POST /__emulator/credentials {"lifetime_ms": n|null}
 *                                  temporary sets issued / lifetime of the next ones
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { isCleanupError } from '../errors.js';
import type { RemainingTask, RemainingTaskFilter } from './emulator-state.js';
import type { FaultOptions, ScriptedAnswer } from './fault-injector.js';
import { parseRateLimitSettings, type RateLimitSettings } from './rate-limiter.js';
import { sendJson } from './send-answer.js';
import { buildInputError, TASK_STATUSES } from './state-file.js';
import type { EmulatorStats } from './stats-recorder.js';

/** The part of the emulator the inspection API drives. */
export interface InspectionTarget {
  stats(): EmulatorStats;
  reset(options?: { state?: boolean }): void;
  faults(): FaultOptions;
  rateLimit(): RateLimitSettings;
  setRateLimit(settings: RateLimitSettings): void;
  setFaults(faults: FaultOptions): void;
  remainingTasks(filter?: RemainingTaskFilter): RemainingTask[];
  scriptTask(taskId: string, answers: ScriptedAnswer[]): void;
  inventory(): unknown;
  addKey(pair: { ak: string; sk: string; securityToken?: string }): void;
  revokeKey(accessKeyId: string): boolean;
  credentialsIssued(): number;
  setCredentialLifetimeMs(lifetimeMs: number | undefined): void;
}

const keySchema = z
  .object({ ak: z.string().min(1), sk: z.string().min(1), security_token: z.string().min(1).optional() })
  .strict();
const revokeSchema = z.object({ ak: z.string().min(1) }).strict();
const lifetimeSchema = z.object({ lifetime_ms: z.number().int().min(1).max(86_400_000).nullable() }).strict();

const scriptSchema = z.object({
  task_id: z.string().min(1),
  answers: z.array(
    z
      .object({
        status: z.number().int().min(100).max(599).optional(),
        errorCode: z.string().optional(),
        body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
        contentType: z.string().optional(),
        retryAfter: z.number().int().min(0).optional(),
        reset: z.boolean().optional(),
        hang: z.boolean().optional(),
        noBody: z.boolean().optional(),
        deletes: z.boolean().optional(),
      })
      .strict(),
  ),
});

const statusSchema = z.enum(TASK_STATUSES).optional();

/** Answers one /__emulator/ request; a bad body is a 400 with a readable message. */
export function answerInspection(
  target: InspectionTarget,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Buffer | undefined,
  res: ServerResponse,
): void {
  try {
    const result = route(target, `${method} ${path}`, query, body);
    if (result === undefined)
      sendJson(res, 404, inspectionError('EMULATOR.0404', `no inspection route ${method} ${path}`));
    else sendJson(res, 200, JSON.stringify(result));
  } catch (err) {
    const message = isCleanupError(err) || err instanceof SyntaxError ? err.message : String(err);
    sendJson(res, 400, inspectionError('EMULATOR.0400', message));
  }
}

function route(
  target: InspectionTarget,
  key: string,
  query: URLSearchParams,
  body: Buffer | undefined,
): unknown {
  switch (key) {
    case 'GET /__emulator/stats':
      return target.stats();
    case 'POST /__emulator/reset': {
      const state = query.get('state') === 'true';
      target.reset({ state });
      return { reset: true, state };
    }
    case 'GET /__emulator/rate-limit':
      return target.rateLimit();
    case 'POST /__emulator/rate-limit':
      target.setRateLimit(parseRateLimitSettings(readJson(body)));
      return target.rateLimit();
    case 'GET /__emulator/faults':
      return target.faults();
    case 'POST /__emulator/faults':
      target.setFaults(readJson(body) as FaultOptions);
      return target.faults();
    case 'GET /__emulator/tasks': {
      const status = statusSchema.safeParse(query.get('status') ?? undefined);
      if (!status.success) throw new SyntaxError(`status must be one of ${TASK_STATUSES.join(', ')}`);
      const tasks = target.remainingTasks({
        projectId: query.get('project') ?? undefined,
        instanceId: query.get('instance') ?? undefined,
        status: status.data,
      });
      return { task_count: tasks.length, tasks };
    }
    case 'POST /__emulator/scripts': {
      const parsed = scriptSchema.safeParse(readJson(body));
      if (!parsed.success) throw buildInputError('script', parsed.error);
      target.scriptTask(parsed.data.task_id, parsed.data.answers);
      return { task_id: parsed.data.task_id, scripted: parsed.data.answers.length };
    }
    case 'GET /__emulator/inventory':
      return target.inventory();
    default:
      return routeKeys(target, key, body);
  }
}

function routeKeys(target: InspectionTarget, key: string, body: Buffer | undefined): unknown {
  switch (key) {
    case 'POST /__emulator/keys': {
      const k = parseBody(keySchema, body, 'key');
      target.addKey({ ak: k.ak, sk: k.sk, ...(k.security_token ? { securityToken: k.security_token } : {}) });
      return { ak: k.ak, accepted: true };
    }
    case 'POST /__emulator/keys/revoke': {
      const { ak } = parseBody(revokeSchema, body, 'key');
      return { ak, revoked: target.revokeKey(ak) };
    }
    case 'GET /__emulator/credentials':
      return { issued: target.credentialsIssued() };
    case 'POST /__emulator/credentials': {
      const { lifetime_ms: lifetimeMs } = parseBody(lifetimeSchema, body, 'credentials');
      target.setCredentialLifetimeMs(lifetimeMs ?? undefined);
      return { issued: target.credentialsIssued(), lifetime_ms: lifetimeMs };
    }
    default:
      return undefined;
  }
}

function parseBody<T>(schema: z.ZodType<T>, body: Buffer | undefined, what: string): T {
  const parsed = schema.safeParse(readJson(body));
  if (!parsed.success) throw buildInputError(what, parsed.error);
  return parsed.data;
}

function readJson(body: Buffer | undefined): unknown {
  return JSON.parse(body === undefined || body.length === 0 ? '{}' : body.toString('utf8'));
}

function inspectionError(code: string, message: string): string {
  return JSON.stringify({ error_code: code, error_msg: message, error_ext_msg: null });
}
