/**
 * Fault injection. Each request on a faulty route draws once from a seeded generator and the draw
 * picks at most one fault (probabilities are cumulative, their sum at most 1), so a given seed and
 * request order always give the same faults. Scripted answers for a task come before any draw.
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { createPrng, type Prng } from './prng.js';
import { buildInputError } from './state-file.js';

export const API_ROUTES = ['delete', 'listTasks', 'listInstances'] as const;
export type ApiRoute = (typeof API_ROUTES)[number];

const rate = z.number().min(0).max(1);

const faultOptionsSchema = z
  .object({
    /** Probability of each injected 5xx. */
    statusRates: z
      .object({ 500: rate.optional(), 502: rate.optional(), 503: rate.optional(), 504: rate.optional() })
      .strict()
      .optional(),
    /** Probability of an injected 429 APIGW.0308. */
    throttleRate: rate.optional(),
    /** `Retry-After` (seconds) on injected 429s; none when absent, like the real gateway. */
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    /** Probability that the connection is destroyed without an answer. */
    resetRate: rate.optional(),
    /** Probability that the request is never answered. */
    hangRate: rate.optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** Extra latency, uniform in [0, jitterMs). */
    jitterMs: z.number().int().min(0).max(600_000).optional(),
    /** The routes faults apply to, default `['delete']`. */
    routes: z.array(z.enum(API_ROUTES)).optional(),
    seed: z.number().int().optional(),
  })
  .strict();

/** What to inject, and where. Every probability is in [0, 1] and their sum is at most 1. */
export type FaultOptions = z.infer<typeof faultOptionsSchema>;

/** One answer to give instead of the normal behaviour. */
export interface ScriptedAnswer {
  /** HTTP status; ignored with `reset` or `hang`. */
  status?: number;
  /** Error code for a standard error body (`APIGW.*` gives the gateway shape, anything else the DCS shape). */
  errorCode?: string;
  /** Raw body (a string is sent as is, an object as JSON); wins over `errorCode`. */
  body?: string | Record<string, unknown>;
  contentType?: string;
  /** `Retry-After` header, in seconds. */
  retryAfter?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Never answer; the socket stays open until the client gives up or the emulator closes. */
  hang?: boolean;
  /** Send no body at all (e.g. `{ status: 204, noBody: true }`). */
  noBody?: boolean;
  /**
   * Carry out the deletion before answering (with `reset`: a deletion whose answer is lost).
   * Default: true for a 2xx status, false otherwise.
   */
  deletes?: boolean;
}

export type FaultKind =
  'none' | 'reset' | 'hang' | 'status500' | 'status502' | 'status503' | 'status504' | 'throttle';

export interface FaultDraw {
  kind: FaultKind;
  delayMs: number;
  answer: ScriptedAnswer | undefined;
}

export interface FaultInjector {
  set(options: FaultOptions): void;
  current(): FaultOptions;
  appliesTo(route: ApiRoute): boolean;
  /** Draws the fault (and latency) for one request on a faulty route. */
  draw(): FaultDraw;
  script(taskId: string, answers: readonly ScriptedAnswer[]): void;
  /** Removes and returns the next scripted answer for `taskId`, if any. */
  takeScripted(taskId: string): ScriptedAnswer | undefined;
  clearScripts(): void;
}

/** Validates fault options (from code, JSON or CLI flags); INVALID_INPUT when malformed. */
export function parseFaultOptions(input: unknown): FaultOptions {
  const result = faultOptionsSchema.safeParse(input);
  if (!result.success) throw buildInputError('fault options', result.error);
  const total = faultRates(result.data).reduce((sum, [, p]) => sum + p, 0);
  if (total > 1 + 1e-9) {
    throw new CleanupError(
      'INVALID_INPUT',
      `invalid fault options: the probabilities add up to ${total}, above 1`,
    );
  }
  return result.data;
}

/** The fault a uniform draw `u` in [0, 1) selects; pure. */
export function chooseFault(options: FaultOptions, u: number): FaultKind {
  let upTo = 0;
  for (const [kind, p] of faultRates(options)) {
    upTo += p;
    if (u < upTo) return kind;
  }
  return 'none';
}

/** The answer an injected fault gives. */
export function buildFaultAnswer(kind: FaultKind, options: FaultOptions): ScriptedAnswer | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'reset':
      return { reset: true };
    case 'hang':
      return { hang: true };
    case 'throttle':
      return { status: 429, errorCode: 'APIGW.0308', retryAfter: options.retryAfterSeconds };
    default:
      return { status: Number(kind.slice('status'.length)) };
  }
}

/** A fault injector starting with `options` (validated). */
export function createFaultInjector(options: FaultOptions = {}): FaultInjector {
  let faults = parseFaultOptions(options);
  let prng: Prng = createPrng(faults.seed ?? 1);
  let routes = new Set<ApiRoute>(faults.routes ?? ['delete']);
  const scripts = new Map<string, ScriptedAnswer[]>();
  return {
    set(next) {
      faults = parseFaultOptions(next);
      if (faults.seed !== undefined) prng = createPrng(faults.seed);
      routes = new Set(faults.routes ?? ['delete']);
    },
    current: () => faults,
    appliesTo: (route) => routes.has(route),
    draw() {
      const kind = chooseFault(faults, prng.next());
      const jitter = faults.jitterMs ? prng.next() * faults.jitterMs : 0;
      return {
        kind,
        delayMs: (faults.latencyMs ?? 0) + Math.floor(jitter),
        answer: buildFaultAnswer(kind, faults),
      };
    },
    script(taskId, answers) {
      const queue = scripts.get(taskId) ?? [];
      queue.push(...answers);
      if (queue.length > 0) scripts.set(taskId, queue);
    },
    takeScripted(taskId) {
      const queue = scripts.get(taskId);
      if (queue === undefined) return undefined;
      const answer = queue.shift();
      if (queue.length === 0) scripts.delete(taskId);
      return answer;
    },
    clearScripts: () => scripts.clear(),
  };
}

function faultRates(options: FaultOptions): [FaultKind, number][] {
  const s = options.statusRates ?? {};
  return [
    ['reset', options.resetRate ?? 0],
    ['hang', options.hangRate ?? 0],
    ['status500', s[500] ?? 0],
    ['status502', s[502] ?? 0],
    ['status503', s[503] ?? 0],
    ['status504', s[504] ?? 0],
    ['throttle', options.throttleRate ?? 0],
  ];
}
