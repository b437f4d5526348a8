/** Task files for the enqueue benchmark: CSV as `dcs-cleanup enqueue --file` reads it. */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ID, instanceId, taskId } from './inventory.js';

/** Writes `lines` task lines (plus a header) to a fresh temporary CSV file; `remove()` deletes it. */
export async function writeTaskCsv(lines) {
  const dir = await mkdtemp(join(tmpdir(), 'dcs-cleanup-bench-'));
  const path = join(dir, `tasks-${lines}.csv`);
  const out = createWriteStream(path);
  const write = (text) =>
    out.write(text) ? undefined : new Promise((resolve) => out.once('drain', resolve));
  await write('project_id,instance_id,task_id\n');
  let chunk = '';
  for (let n = 0; n < lines; n++) {
    const i = Math.floor(n / 100_000);
    chunk += `${PROJECT_ID},${instanceId(i)},${taskId(i, n % 100_000)}\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
