import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// Only the boundary blocks of eslint.config.js, without type information: fast, and the same rules
// `npm run lint` applies.
// A path in a variable: the config is plain JavaScript, outside the TypeScript project.
const configFile = '../../../eslint.config.js';
const config = ((await import(configFile)) as { default: Linter.Config[] }).default;
const boundaries = config.filter((block) => block.rules?.['no-restricted-imports'] !== undefined);
const linter = new Linter({ configType: 'flat' });

/** The no-restricted-imports messages lint gives `code` as if it were the file at `filePath`. */
function restrictedImports(filePath: string, code: string): string[] {
  const messages = linter.verify(
    code,
    [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...boundaries],
    { filename: filePath },
  );
  return messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the module boundaries of docs/architecture.md, enforced by lint', () => {
  it('fails a cli/ file that imports bin/ (a long-running command returns a service instead)', () => {
    const messages = restrictedImports(
      'src/cli/options.ts',
      "import { waitForShutdown } from '../bin/process-lifecycle.js';\nexport const w = waitForShutdown;\n",
    );
    expect(messages.join('\n')).toMatch(/cli\/ never imports bin\//);
  });

  it('fails a core file (purge/) that imports queue/', () => {
    const messages = restrictedImports(
      'src/purge/run-id.ts',
      "import { openQueue } from '../queue/open-queue.js';\nexport const q = openQueue;\n",
    );
    expect(messages.join('\n')).toMatch(/never import queue\//);
  });

  it('fails production code (app/) that imports the emulator, and passes a cli/ file that imports app', () => {
    expect(
      restrictedImports(
        'src/app/worker-metrics.ts',
        "import { startEmulator } from '../emulator/emulator.js';\nexport const s = startEmulator;\n",
      ),
    ).not.toHaveLength(0);
    expect(
      restrictedImports(
        'src/cli/options.ts',
        "import { startWorker } from '../app.js';\nexport const s = startWorker;\n",
      ),
    ).toEqual([]);
  });
});
