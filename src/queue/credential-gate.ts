import type { AttemptOutcome } from '../dcs/attempt-outcome.js';

/** The slice of the DCS client the worker needs. */
export interface TaskDeleter {
  deleteBackgroundTask(
    ref: { projectId: string; instanceId: string; taskId: string },
    options?: { signal?: AbortSignal | undefined; traceId?: string | undefined },
  ): Promise<AttemptOutcome>;
  probe(projectId: string, options?: { signal?: AbortSignal }): Promise<AttemptOutcome & { ok: boolean }>;
}

/**
 * Proves the credentials with one cheap signed call before a process sends deletions through a
 * client, and again after the breaker closes. Concurrent jobs share the one probe in flight, so a
 * wrong key costs one failed request, not one per concurrency slot.
 */
export interface CredentialGate {
  /** Resolves undefined when the client may send, or the failing outcome (auth_failed / misconfigured). */
  check(client: TaskDeleter, projectId: string): Promise<AttemptOutcome | undefined>;
  reset(): void;
}

export function createCredentialGate(): CredentialGate {
  let verified = new WeakSet<TaskDeleter>();
  const pending = new WeakMap<TaskDeleter, Promise<AttemptOutcome | undefined>>();

  async function probe(client: TaskDeleter, projectId: string): Promise<AttemptOutcome | undefined> {
    const outcome = await client.probe(projectId);
    const fatal = outcome.verdict.action === 'auth_failed' || outcome.verdict.action === 'misconfigured';
    // Only a verdict about the credentials or endpoint blocks; a flaky probe lets the DELETE decide.
    if (!fatal) verified.add(client);
    return fatal ? outcome : undefined;
  }

  return {
    check(client, projectId) {
      if (verified.has(client)) return Promise.resolve(undefined);
      let inFlight = pending.get(client);
      if (!inFlight) {
        inFlight = probe(client, projectId).finally(() => pending.delete(client));
        pending.set(client, inFlight);
      }
      return inFlight;
    },
    reset() {
      verified = new WeakSet();
    },
  };
}
