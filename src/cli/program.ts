import { Command } from 'commander';
import { registerEnqueueCommand } from './enqueue-command.js';
import { registerWorkerCommand } from './worker-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerResumeCommand } from './resume-command.js';
import { registerDlqCommand } from './dlq-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerEmulatorCommand } from './emulator-command.js';

/**
 * The `dcs-cleanup` command tree. Each command lives in its own file under src/cli and registers
 * itself here with one line; commands return an exit code instead of calling process.exit.
 */
export function buildProgram(): Command {
  const program = new Command('dcs-cleanup')
    .description('Delete Huawei Cloud DCS background tasks at scale, through a BullMQ queue.')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerEnqueueCommand(program);
  registerWorkerCommand(program);
  registerStatusCommand(program);
  registerResumeCommand(program);
  registerDlqCommand(program);
  registerDemoCommand(program);
  registerEmulatorCommand(program);
  return program;
}
