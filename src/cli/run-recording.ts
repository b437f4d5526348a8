/**
 * The run ledger's side of a CLI run (`purge`, `purge apply`): the run is recorded once it is
 * confirmed and enqueued (started by `user@host`), and with `--verify` its deleted and gone tasks
 * are listed again after `--wait`, through the configured DCS credentials.
 */
import type { App } from '../app.js';
import { createConfiguredCredentialProvider } from '../dcs/credential-sources/create-credential-provider.js';
import { createClientRegistry } from '../dcs/client-registry.js';
import type { StillPresentTask } from '../purge/verify-purge.js';
import type { EnqueueSelectionResult } from '../queue/enqueue-selection.js';
import type { RunKind } from '../runs/run-record.js';
import { verifyRun } from '../runs/run-verify.js';

/** What the ledger records of a CLI run. */
export interface CliRun {
  kind: Extract<RunKind, 'purge' | 'apply'>;
  /** `user@host`. */
  startedBy: string;
  spec: Record<string, unknown>;
  verify: boolean;
}

/** Records the run around its enqueue: `enqueued` with its counts, or `failed` when the enqueue threw. */
export async function recordEnqueue(
  app: App,
  run: CliRun,
  runId: string,
  selected: number,
  enqueue: () => Promise<EnqueueSelectionResult>,
): Promise<EnqueueSelectionResult> {
  const ledger = app.runs();
  await ledger.start({ runId, kind: run.kind, startedBy: run.startedBy, spec: run.spec, verify: run.verify });
  try {
    const result = await enqueue();
    await ledger.enqueued(runId, { selected, enqueued: result.enqueued, duplicates: result.duplicates });
    return result;
  } catch (err) {
    await ledger.fail(runId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    throw err;
  }
}

/** The verification pass of a CLI run, recorded in the ledger; the DCS clients are closed after. */
export async function verifyCliRun(
  app: App,
  runId: string,
  region: string | undefined,
): Promise<StillPresentTask[]> {
  const clients = createClientRegistry(app.config, createConfiguredCredentialProvider(app.config));
  try {
    return await verifyRun(app.runs(), clients.get(region), runId);
  } finally {
    await clients.close();
  }
}
