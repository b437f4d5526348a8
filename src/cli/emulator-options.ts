import { InvalidArgumentError } from 'commander';
import { isLoopbackHost } from '../config/config.js';
import { DEMO_CREDENTIALS, type EmulatorOptions } from '../emulator/emulator.js';
import {
  API_ROUTES,
  parseFaultOptions,
  type ApiRoute,
  type FaultOptions,
} from '../emulator/fault-injector.js';
import { CleanupError } from '../errors.js';
import type { RateWindow } from '../emulator/rate-limiter.js';

/** Plain http, away from the API's 8080. */
export const DEFAULT_EMULATOR_PORT = 18080;
const FAULT_STATUSES = ['500', '502', '503', '504'] as const;

export interface EmulatorFlags {
  host: string;
  allowRemote?: boolean;
  port: number;
  ak?: string;
  sk?: string;
  securityToken?: string;
  project?: string;
  projects: number;
  instances: number;
  tasksPerInstance: number;
  stateFile?: string;
  seed: number;
  rateLimit: number;
  /** Default second. */
  rateWindow?: RateWindow;
  deleteStatus: '200' | '204';
  failRate: number;
  statusWeights: string;
  throttleRate: number;
  retryAfter?: number;
  resetRate: number;
  hangRate: number;
  latencyMs: number;
  jitterMs: number;
  faultRoutes: string;
  logLevel: string;
}

/** The emulator's secrets, from the environment (EMULATOR_SK, EMULATOR_SECURITY_TOKEN, EMULATOR_EXTRA_KEYS). */
export interface EmulatorSecrets {
  sk?: string;
  securityToken?: string;
  /** More accounts: key pairs, each optionally limited to its projects. */
  extraKeys?: { ak: string; sk: string; projects?: string[] }[];
}

/** The secret flags of earlier versions, refused: a command line shows in `ps` to every user. */
const SECRET_FLAGS = [
  ['sk', '--sk', 'EMULATOR_SK'],
  ['securityToken', '--security-token', 'EMULATOR_SECURITY_TOKEN'],
] as const;

/**
 * Maps the flags and secrets to emulator options (everything but the state file, which is read
 * separately). INVALID_INPUT for a secret passed as a flag, or an --ak without its EMULATOR_SK.
 */
export function buildEmulatorOptions(flags: EmulatorFlags, secrets: EmulatorSecrets = {}): EmulatorOptions {
  if (!flags.allowRemote && !isLoopbackHost(flags.host)) {
    throw usage(`--host ${flags.host} is reachable from other machines: pass --allow-remote to mean it`);
  }
  for (const [key, flag, variable] of SECRET_FLAGS) {
    if (flags[key] !== undefined) {
      throw usage(
        `${flag} is refused: a secret on the command line is visible in ps; set ${variable} instead`,
      );
    }
  }
  if ((flags.ak === undefined) !== (secrets.sk === undefined)) {
    throw usage('--ak and EMULATOR_SK go together (the secret key comes from the environment)');
  }
  const credentials =
    flags.ak !== undefined && secrets.sk !== undefined ? { ak: flags.ak, sk: secrets.sk } : DEMO_CREDENTIALS;
  return {
    host: flags.host,
    port: flags.port,
    credentials:
      secrets.extraKeys === undefined
        ? { ...credentials, securityToken: secrets.securityToken }
        : [{ ...credentials, securityToken: secrets.securityToken }, ...secrets.extraKeys],
    rateLimit: { limit: flags.rateLimit, per: flags.rateWindow ?? 'second' },
    deleteSuccessStatus: flags.deleteStatus === '204' ? 204 : 200,
    seed: {
      projectId: flags.project,
      projects: flags.projects,
      instances: flags.instances,
      tasksPerInstance: flags.tasksPerInstance,
      seed: flags.seed,
    },
    faults: buildFaultOptions(flags),
  };
}

function buildFaultOptions(flags: EmulatorFlags): FaultOptions {
  const routes = flags.faultRoutes.split(',').map((r) => r.trim());
  const unknown = routes.filter((r) => !(API_ROUTES as readonly string[]).includes(r));
  if (unknown.length > 0)
    throw usage(`--fault-routes: unknown ${unknown.join(', ')} (use ${API_ROUTES.join(', ')})`);
  return parseFaultOptions({
    statusRates: splitFailRate(flags.failRate, flags.statusWeights),
    throttleRate: flags.throttleRate,
    retryAfterSeconds: flags.retryAfter,
    resetRate: flags.resetRate,
    hangRate: flags.hangRate,
    latencyMs: flags.latencyMs,
    jitterMs: flags.jitterMs,
    routes: routes as ApiRoute[],
    seed: flags.seed,
  });
}

/** `500:1,503:3` with a fail rate of 0.2 -> 0.05 for 500 and 0.15 for 503. */
export function splitFailRate(failRate: number, weights: string): FaultOptions['statusRates'] {
  const parsed = weights.split(',').map((part) => {
    const [status = '', weight = ''] = part.split(':').map((s) => s.trim());
    const w = Number(weight);
    if (!(FAULT_STATUSES as readonly string[]).includes(status) || weight === '' || !(w >= 0)) {
      throw usage(
        `--status-weights: "${part}" must be STATUS:WEIGHT with STATUS one of ${FAULT_STATUSES.join(', ')}`,
      );
    }
    return [status, w] as const;
  });
  const total = parsed.reduce((sum, [, w]) => sum + w, 0);
  if (total === 0) throw usage('--status-weights: the weights add up to 0');
  return Object.fromEntries(parsed.map(([status, w]) => [status, (failRate * w) / total]));
}

/** A commander parser for a probability in [0, 1], naming the flag in its error. */
export function parseRate(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n <= 1)) {
      throw new InvalidArgumentError(
        `${flag} must be a probability from 0 to 1, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

function usage(message: string): CleanupError {
  return new CleanupError('INVALID_INPUT', message);
}
