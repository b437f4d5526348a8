/**
 * What the breaker probes, and how a refusal of one job is told from a refusal of the credentials.
 *
 * A 401 or `misconfigured` answer to one job may be about that job alone: a project the credentials
 * cannot access, a region whose endpoint is wrong. The trusted pair (DCS_PROJECT_ID in DCS_REGION,
 * from the configuration, not from a job) settles it: when it is accepted while the job's pair is
 * not, the job is dead-lettered and the queue keeps running; when it is refused too, the queue
 * pauses and the probe loop asks the trusted pair again, never a job's. Without a trusted pair the
 * failing job's own pair is probed (the only choice left).
 *
 * A `forbidden` pause (the credential lacks a permission) cannot be proved over by a read: the probe
 * sends the refused DELETE again, and resumes when it is accepted (or the task is gone).
 */
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import type { CircuitState } from './circuit-breaker.js';
import type { TaskDeleter } from './credential-gate.js';

/** The project and region from the configuration, trusted to be reachable with the credentials. */
export interface TrustedPair {
  projectId: string;
  region: string;
}

export interface TrustedCheck {
  readonly pair: TrustedPair;
  /** True when a job's project and region are the trusted pair (its refusal is about the credentials). */
  isTrusted(projectId: string, region: string | undefined): boolean;
  /** One signed probe of the trusted pair, shared by the callers that ask while it is in flight. */
  probe(): Promise<AttemptOutcome & { ok: boolean }>;
}

export function createTrustedCheck(
  pair: TrustedPair,
  getClient: (region: string | undefined) => TaskDeleter,
): TrustedCheck {
  let inFlight: Promise<AttemptOutcome & { ok: boolean }> | undefined;
  return {
    pair,
    isTrusted: (projectId, region) => projectId === pair.projectId && (region ?? pair.region) === pair.region,
    probe() {
      inFlight ??= getClient(pair.region)
        .probe(pair.projectId)
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
  };
}

/** One probe while the breaker is open: true when the cause of the pause is gone. */
export async function probeOpenCircuit(
  state: CircuitState,
  getClient: (region: string | undefined) => TaskDeleter,
  trusted: TrustedCheck | undefined,
): Promise<AttemptOutcome & { ok: boolean }> {
  if (state.action === 'forbidden' && state.instance_id && state.task_id && state.project_id) {
    const outcome = await getClient(state.region).deleteBackgroundTask({
      projectId: state.project_id,
      instanceId: state.instance_id,
      taskId: state.task_id,
    });
    const { action } = outcome.verdict;
    return { ...outcome, ok: action === 'deleted' || action === 'already_gone' };
  }
  if (trusted) return trusted.probe();
  return getClient(state.region).probe(state.project_id ?? 'unknown');
}
