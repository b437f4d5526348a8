import { Command } from 'commander';

/**
 * The bare `dcs-cleanup` root. `exitOverride` is set before any subcommand is added so that every
 * subcommand inherits it: a usage error then reaches src/bin/cli.ts (exit 64) instead of exiting inside commander.
 */
export function createRootCommand(): Command {
  return new Command('dcs-cleanup')
    .description('Delete Huawei Cloud DCS background tasks at scale, through a BullMQ queue.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
}
