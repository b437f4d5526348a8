import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { COMMAND_LOADERS, buildProgramFor } from '../../../src/cli/command-index.js';

describe('the command index', () => {
  it('lists exactly the commands buildProgram registers', () => {
    const eager = buildProgram()
      .commands.map((c) => c.name())
      .sort();
    expect(Object.keys(COMMAND_LOADERS).sort()).toEqual(eager);
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
