/** The verification pass of a run in the ledger: its deleted and gone tasks, listed again. */
import { findStillPresent, type StillPresentTask } from '../purge/verify-purge.js';
import type { TaskLister } from '../purge/stream-inventory.js';
import { parseJobId } from '../queue/job-contract.js';
import type { RunLedger } from './run-ledger.js';

/** Lists the run's instances again, records `still_present` and answers the tasks still there. */
export async function verifyRun(
  ledger: Pick<RunLedger, 'goneJobIds' | 'recordVerification'>,
  lister: TaskLister,
  runId: string,
  options: { concurrency?: number } = {},
): Promise<StillPresentTask[]> {
  const ids = await ledger.goneJobIds(runId);
  const tasks = ids.map((id) => parseJobId(id)).filter((t) => t !== undefined);
  const still = await findStillPresent(lister, tasks, options);
  await ledger.recordVerification(runId, still);
  return still;
}
