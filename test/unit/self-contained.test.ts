import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Built from parts so that this file does not match itself.
const sibling = ['..', 'shared'].join('/');

/** Every file under `dir` (relative to the project root), skipping generated directories. */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) {
      if (name !== 'node_modules' && name !== 'results') found.push(...filesUnder(path));
    } else found.push(path);
  }
  return found;
}

describe('the repository is self-contained', () => {
  it(`no source, test, bench or CI file reads ${sibling} (a fresh clone has none beside it)`, () => {
    const files = [...['src', 'test', 'bench', '.ci'].flatMap(filesUnder), 'package.json'];
    const readers = files.filter((f) => readFileSync(join(root, f), 'utf8').includes(sibling));
    expect(readers).toEqual([]);
  });
});
