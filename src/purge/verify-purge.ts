/**
 * The verification pass of a run (`purge --verify`, `verify: true`): after the run's jobs ended, the
 * instances they touched are listed again, and any task the run deleted (or found gone) that DCS
 * still lists is reported: it reappeared, or the deletion did not hold.
 */
import type { PlannedTask } from './plan-purge.js';
import { streamInventory, type TaskLister } from './stream-inventory.js';

export type TaskRef = Pick<PlannedTask, 'project_id' | 'instance_id' | 'task_id'>;

/** A task the verification found still listed, with what DCS says of it now. */
export interface StillPresentTask extends TaskRef {
  name: string;
  status: string;
}

/** Lists the instances of `tasks` again (one project at a time) and answers those still listed. */
export async function findStillPresent(
  lister: TaskLister,
  tasks: Iterable<TaskRef>,
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<StillPresentTask[]> {
  const byProject = new Map<string, Map<string, Set<string>>>();
  for (const t of tasks) {
    const instances = byProject.get(t.project_id) ?? new Map<string, Set<string>>();
    byProject.set(t.project_id, instances);
    const ids = instances.get(t.instance_id) ?? new Set<string>();
    instances.set(t.instance_id, ids);
    ids.add(t.task_id);
  }
  const found: StillPresentTask[] = [];
  for (const [projectId, instances] of byProject) {
    const { tasks: listed } = streamInventory(
      lister,
      { projectId, instances: [...instances.keys()] },
      options,
    );
    for await (const task of listed) {
      if (!instances.get(task.instanceId)?.has(task.id)) continue;
      found.push({
        project_id: projectId,
        instance_id: task.instanceId,
        task_id: task.id,
        name: task.name,
        status: task.status,
      });
    }
  }
  return found;
}
