/**
 * A smaller heap for batch commands that stream (`enqueue`, `purge`, `purge apply`). After each full
 * collection V8 lets the old generation grow to up to four times what survived it before collecting
 * again: right for a long-lived server, wasteful for a command whose live heap stays at ~20 MB while
 * it streams a million lines through. At 1.5x the enqueue of 1,000,000 lines peaks at ~125 MB RSS
 * instead of ~195 MB, a purge of 100,000 tasks at ~150 MB instead of ~200 MB (bench/README.md,
 * `enqueue.peak_rss`, `purge.peak_rss`).
 *
 * `--heap-growing-percent` is read by V8 at every collection, so it can be set after start-up (a
 * heap size limit cannot). It bounds only how far the heap grows between collections, so it works
 * with any `--max-old-space-size` in NODE_OPTIONS; one given on the node command line wins.
 */
import { setFlagsFromString } from 'node:v8';

export const LEAN_HEAP_GROWING_PERCENT = 50;

/** Applies the lean heap policy unless `execArgv` sets the factor itself; true when applied. */
export function preferLeanHeap(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${LEAN_HEAP_GROWING_PERCENT}`);
  return true;
}
