#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgramFor } from '../cli/command-index.js';
import { EXIT_CODES, reportError, startedService } from '../cli/run-command.js';
import { waitForShutdown } from './process-lifecycle.js';

/** How long a finished command may linger on open handles before it exits anyway. */
const LINGER_LIMIT_MS = 10_000;

/**
 * Parses argv, runs the command, maps what escapes it to an exit code (README "Exit codes"). A
 * long-running command (worker, serve, emulator) leaves a running service: it is waited on here
 * until a signal or its own end, then closed.
 */
async function main(): Promise<void> {
  try {
    const program = await buildProgramFor(process.argv);
    await program.parseAsync(process.argv);
    const service = startedService(program);
    if (service) process.exitCode = await waitForShutdown(service);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; every usage error with 64.
      process.exitCode = err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
      return;
    }
    process.exitCode = reportError(err);
  }
}

await main();
// The command is done and has closed what it opened. Should a Redis client still be reconnecting
// (a BullMQ client brought back during a cluster failover while it closed), the process would
// never end: give the event loop a few seconds to drain, then exit. The timer holds nothing alive.
setTimeout(() => process.exit(), LINGER_LIMIT_MS).unref();
