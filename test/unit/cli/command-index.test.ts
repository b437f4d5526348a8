import { describe, expect, it } from 'vitest';
import { COMMAND_LOADERS, buildProgramFor } from '../../../src/cli/command-index.js';
import { createRootCommand } from '../../../src/cli/root-command.js';

describe('the command index', () => {
  it('registers, under its own name, the command each loader loads', async () => {
    for (const [name, load] of Object.entries(COMMAND_LOADERS)) {
      const alone = createRootCommand();
      (await load())(alone);
      expect(
        alone.commands.map((c) => c.name()),
        name,
      ).toEqual([name]);
    }
  });

  it('registers only the command a process runs', async () => {
    const program = await buildProgramFor(['node', 'cli.js', 'status', '--json']);
    expect(program.commands.map((c) => c.name())).toEqual(['status']);
  });

  it('registers every command for top-level help and unknown names', async () => {
    for (const argv of [
      ['node', 'cli.js'],
      ['node', 'cli.js', '--help'],
      ['node', 'cli.js', 'nope'],
    ]) {
      const program = await buildProgramFor(argv);
      expect(program.commands).toHaveLength(Object.keys(COMMAND_LOADERS).length);
    }
  });
});
