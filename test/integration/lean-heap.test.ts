import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const LEAN_HEAP = fileURLToPath(new URL('../../dist/cli/lean-heap.js', import.meta.url));

/**
 * Runs a Node process (with `nodeFlags`) that applies the policy, keeps
 * ~18 MB alive and forces a full collection; returns what it said and V8's verbose GC trace.
 */
async function gcTrace(nodeFlags: string[]): Promise<{ applied: string; factors: string[] }> {
  const script = `
    const { preferLeanHeap } = await import(${JSON.stringify(LEAN_HEAP)});
    console.log('applied=' + preferLeanHeap(process.execArgv));
    const keep = [];
    for (let i = 0; i < 200000; i++) keep.push({ i, s: 'x' + i });
    globalThis.gc();
    console.log(keep.length);`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--trace-gc-verbose', '--expose-gc', ...nodeFlags, '--input-type=module', '-e', script],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const factors = [...stdout.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d)\)/g)].map((m) => m[1]!);
  return { applied: /applied=(\w+)/.exec(stdout)?.[1] ?? '', factors };
}

describe('preferLeanHeap', () => {
  it('makes V8 grow the old generation to 1.5x what survived a full collection', async () => {
    const { applied, factors } = await gcTrace([]);
    expect(applied).toBe('true');
    expect(factors.length).toBeGreaterThan(0);
    expect(new Set(factors)).toEqual(new Set(['1.5']));
  });

  it('works under a heap size limit', async () => {
    const { applied, factors } = await gcTrace(['--max-old-space-size=512']);
    expect(applied).toBe('true');
    expect(new Set(factors)).toEqual(new Set(['1.5']));
  });

  it('leaves the factor given on the node command line', async () => {
    const { applied, factors } = await gcTrace(['--heap-growing-percent=300']);
    expect(applied).toBe('false');
    expect(new Set(factors)).toEqual(new Set(['4.0']));
  });
});
