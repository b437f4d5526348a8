#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgramFor } from '../cli/command-index.js';
import { isCleanupError } from '../errors.js';
import { EXIT_CODES } from '../cli/run-command.js';

/** Parses argv, runs the command, maps what escapes it to an exit code (README "Exit codes"). */
async function main(): Promise<void> {
  try {
    const program = await buildProgramFor(process.argv);
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; every usage error with 64.
      process.exitCode = err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
      return;
    }
    if (isCleanupError(err)) {
      process.stderr.write(`dcs-cleanup: ${err.message}\n`);
      process.exitCode = err.code.startsWith('INVALID_') ? EXIT_CODES.usage : EXIT_CODES.failure;
      return;
    }
    process.stderr.write(`dcs-cleanup: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_CODES.failure;
  }
}

await main();
