import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { runDemo } from '../demo/run-demo.js';
import { EXIT_CODES, runCommand } from './run-command.js';
import { parseIntOption } from './options.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the whole pipeline against the built-in DCS emulator with injected faults, and print a summary. Needs Redis (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, or redis-server on the PATH).',
    )
    .option('--instances <n>', 'emulated instances', parseIntOption('--instances', 1, 100), 4)
    .option(
      '--tasks-per-instance <n>',
      'tasks per instance',
      parseIntOption('--tasks-per-instance', 1, 10_000),
      250,
    )
    .option('--fault-rate <p>', 'share of DELETEs answered with a 500 or 503 (0..0.5)', (v) => Number(v), 0.1)
    .option('--json', 'print the summary as JSON on the last line')
    .action(
      runCommand(
        async (flags: { instances: number; tasksPerInstance: number; faultRate: number; json?: boolean }) => {
          const config = loadConfig();
          const faultRate = Number.isFinite(flags.faultRate)
            ? Math.min(Math.max(flags.faultRate, 0), 0.5)
            : 0.1;
          const summary = await runDemo({
            config,
            instances: flags.instances,
            tasksPerInstance: flags.tasksPerInstance,
            faultRate,
            out: process.stdout,
          });
          if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
          return EXIT_CODES.ok;
        },
      ),
    );
}
