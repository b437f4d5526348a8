/**
 * The tasks a purge selected, held compactly until they are enqueued, written or printed.
 *
 * The planner keeps every selected task until the listing ends (the guard must know how many match
 * before anything is enqueued), up to `--max`, which may be 1,000,000. One PlannedTask object per task
 * costs about 200 bytes of heap (an object and four strings of its own), and V8 lets the heap grow to
 * several times what is live before collecting. Here a task costs about 60 bytes, none of them on the
 * heap: its id as bytes in a shared buffer, and numbers in typed arrays. Project ids, instance ids,
 * names and statuses repeat across tasks, so each distinct one is stored once and tasks refer to it
 * by number; `created_at` is kept as epoch milliseconds. A PlannedTask is made only when asked for,
 * one at a time, as the list is iterated.
 */
import type { TaskFacts } from './purge-filters.js';

/** A listed task as the planner receives it (a DcsTask fits). */
export interface ListedTask extends TaskFacts {
  id: string;
  projectId: string;
}

/** One task of a plan, as written to plan files and reports. */
export interface PlannedTask {
  project_id: string;
  instance_id: string;
  task_id: string;
  name: string;
  status: string;
  created_at: string;
}

/** Tasks to enqueue, print or write: a PlannedTaskList or a plain array. */
export type PlannedTasks = Iterable<PlannedTask> & { readonly length: number };

/** Per task: the project, instance, name and status, as indexes into the string table. */
const REFS = 4;
const FIRST_CAPACITY = 1_024;
/** A character latin1 cannot hold: such an id (never a valid DCS id) is kept as a string. */
const WIDE = /[\u0100-\uffff]/;

export class PlannedTaskList implements Iterable<PlannedTask> {
  #length = 0;
  readonly #strings: string[] = [];
  readonly #stringIndex = new Map<string, number>();
  #refs = new Uint32Array(0);
  #createdAt = new Float64Array(0);
  /** Task ids one after another as latin1 bytes; the id of task i ends at #idEnds[i]. */
  #idBytes = Buffer.alloc(0);
  #idEnds = new Uint32Array(0);
  /** Ids that latin1 cannot hold, by task index (stored as zero bytes). */
  readonly #wideIds = new Map<number, string>();

  get length(): number {
    return this.#length;
  }

  /** Appends a task. Throws RangeError for an invalid `createdAt`, as `toISOString` would. */
  push(task: ListedTask): void {
    const createdAt = task.createdAt.getTime();
    if (Number.isNaN(createdAt)) throw new RangeError('Invalid time value');
    const i = this.#length;
    if (i === this.#createdAt.length) this.#grow();
    const at = i * REFS;
    this.#refs[at] = this.#intern(task.projectId);
    this.#refs[at + 1] = this.#intern(task.instanceId);
    this.#refs[at + 2] = this.#intern(task.name);
    this.#refs[at + 3] = this.#intern(task.status);
    this.#createdAt[i] = createdAt;
    this.#idEnds[i] = this.#appendId(i, task.id);
    this.#length = i + 1;
  }

  /** The task at `index` (0 to length - 1), as a new PlannedTask. */
  get(index: number): PlannedTask {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`index ${index} outside 0..${this.length - 1}`);
    }
    const at = index * REFS;
    const strings = this.#strings;
    const idStart = index === 0 ? 0 : this.#idEnds[index - 1]!;
    const idEnd = this.#idEnds[index]!;
    return {
      project_id: strings[this.#refs[at]!]!,
      instance_id: strings[this.#refs[at + 1]!]!,
      task_id:
        idStart === idEnd
          ? (this.#wideIds.get(index) ?? '')
          : this.#idBytes.toString('latin1', idStart, idEnd),
      name: strings[this.#refs[at + 2]!]!,
      status: strings[this.#refs[at + 3]!]!,
      created_at: new Date(this.#createdAt[index]!).toISOString(),
    };
  }

  *[Symbol.iterator](): Iterator<PlannedTask> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  #intern(value: string): number {
    let index = this.#stringIndex.get(value);
    if (index === undefined) {
      index = this.#strings.push(value) - 1;
      this.#stringIndex.set(value, index);
    }
    return index;
  }

  /** Stores task `index`'s id and returns where its bytes end. */
  #appendId(index: number, id: string): number {
    const start = index === 0 ? 0 : this.#idEnds[index - 1]!;
    if (WIDE.test(id)) {
      this.#wideIds.set(index, id);
      return start;
    }
    const end = start + id.length;
    if (end > 0xffff_ffff) throw new RangeError('task ids past 4 GiB in one list');
    if (end > this.#idBytes.length) {
      const bytes = Buffer.alloc(Math.max(end, this.#idBytes.length * 2, FIRST_CAPACITY * 32));
      this.#idBytes.copy(bytes, 0, 0, start);
      this.#idBytes = bytes;
    }
    this.#idBytes.write(id, start, 'latin1');
    return end;
  }

  #grow(): void {
    const capacity = Math.max(FIRST_CAPACITY, this.#createdAt.length * 2);
    const refs = new Uint32Array(capacity * REFS);
    refs.set(this.#refs);
    this.#refs = refs;
    const createdAt = new Float64Array(capacity);
    createdAt.set(this.#createdAt);
    this.#createdAt = createdAt;
    const idEnds = new Uint32Array(capacity);
    idEnds.set(this.#idEnds);
    this.#idEnds = idEnds;
  }
}
