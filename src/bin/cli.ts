#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from '../cli/program.js';
import { isCleanupError } from '../errors.js';

/** Exit codes shared by every command (docs: README "Exit codes"). */
async function main(): Promise<void> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 64;
      return;
    }
    if (isCleanupError(err)) {
      process.stderr.write(`dcs-cleanup: ${err.message}\n`);
      process.exitCode = err.code === 'INVALID_CONFIG' || err.code.startsWith('INVALID_') ? 64 : 1;
      return;
    }
    process.stderr.write(`dcs-cleanup: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

await main();
