import { readFile } from 'node:fs/promises';
import { RATE_WINDOWS } from '../emulator/rate-limiter.js';
import { Option, type Command } from 'commander';
import {
  DEMO_CREDENTIALS,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
} from '../emulator/emulator.js';
import { API_ROUTES } from '../emulator/fault-injector.js';
import { parseEmulatorStateFile } from '../emulator/state-file.js';
import { loadEmulatorSecrets } from '../config/emulator-settings.js';
import { CleanupError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import {
  buildEmulatorOptions,
  DEFAULT_EMULATOR_PORT,
  parseRate,
  type EmulatorFlags,
} from './emulator-options.js';
import { parseIntOption } from './options.js';
import { runCommand, type RunningService } from './run-command.js';

export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description(
      'Run the local DCS API emulator (signed DELETE and list calls, faults on demand) until stopped.',
    )
    .option('--host <address>', 'address to listen on; a non-loopback one needs --allow-remote', '127.0.0.1')
    .option('--allow-remote', 'allow a host other machines can reach (the emulator serves plain http)')
    .option(
      '--port <port>',
      'port to listen on; 0 = any free port',
      parseIntOption('--port', 0, 65_535),
      DEFAULT_EMULATOR_PORT,
    )
    .option(
      '--ak <ak>',
      'access key id to accept, its secret key in EMULATOR_SK (default: the public demo pair); EMULATOR_SECURITY_TOKEN requires that X-Security-Token',
    )
    // Refused with a pointer to the environment: a secret on a command line shows in `ps`.
    .addOption(new Option('--sk <sk>').hideHelp())
    .addOption(new Option('--security-token <token>').hideHelp())
    .option('--project <id>', 'id of the first project (32 hex characters; default generated)')
    .option('--projects <n>', 'projects to generate', parseIntOption('--projects', 1, 1_000), 1)
    .option('--instances <n>', 'instances per project', parseIntOption('--instances', 0, 100_000), 3)
    .option(
      '--tasks-per-instance <n>',
      'tasks per instance',
      parseIntOption('--tasks-per-instance', 0, 2_000_000),
      200,
    )
    .option('--state-file <file>', 'serve this JSON inventory instead of a generated one (docs/emulator.md)')
    .option(
      '--seed <n>',
      'seed of the generated inventory and of the fault draws',
      parseIntOption('--seed', 0, 2 ** 31),
      1,
    )
    .option(
      '--rate-limit <n>',
      'calls per AK and API per sliding second (or --rate-window) before 429 APIGW.0308; 0 = off',
      parseIntOption('--rate-limit', 0, 1e6),
      200,
    )
    .addOption(
      new Option('--rate-window <window>', 'the window of --rate-limit')
        .choices(RATE_WINDOWS)
        .default('second'),
    )
    .addOption(
      new Option('--delete-status <code>', 'status of a successful DELETE')
        .choices(['200', '204'])
        .default('200'),
    )
    .option(
      '--fail-rate <p>',
      'probability of an injected 5xx on --fault-routes',
      parseRate('--fail-rate'),
      0,
    )
    .option(
      '--status-weights <list>',
      'how --fail-rate splits over 500, 502, 503, 504',
      '500:1,502:1,503:1,504:1',
    )
    .option(
      '--throttle-rate <p>',
      'probability of an injected 429 APIGW.0308',
      parseRate('--throttle-rate'),
      0,
    )
    .option(
      '--retry-after <s>',
      'Retry-After seconds on injected 429s (default none)',
      parseIntOption('--retry-after', 0, 3600),
    )
    .option(
      '--reset-rate <p>',
      'probability that the connection is reset without an answer',
      parseRate('--reset-rate'),
      0,
    )
    .option('--hang-rate <p>', 'probability that a request is never answered', parseRate('--hang-rate'), 0)
    .option(
      '--latency-ms <ms>',
      'latency added to every faulty-route answer',
      parseIntOption('--latency-ms', 0, 600_000),
      0,
    )
    .option(
      '--jitter-ms <ms>',
      'extra latency, uniform in [0, ms)',
      parseIntOption('--jitter-ms', 0, 600_000),
      0,
    )
    .option('--fault-routes <list>', `routes faults apply to: ${API_ROUTES.join(', ')}`, 'delete')
    .addOption(
      new Option('--log-level <level>', 'debug logs one record per request')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  dcs-cleanup emulator --instances 20 --tasks-per-instance 1000\n' +
        '  dcs-cleanup emulator --port 0 --fail-rate 0.1 --status-weights 500:1,503:3 --throttle-rate 0.02 --retry-after 2\n' +
        '  dcs-cleanup emulator --state-file inventory.json --latency-ms 20 --jitter-ms 30\n' +
        'Inspection API (unsigned): GET /__emulator/stats, POST /__emulator/reset, POST /__emulator/faults, GET /__emulator/tasks\n',
    )
    .action(runCommand(runEmulator));
}

async function runEmulator(flags: EmulatorFlags): Promise<RunningService> {
  const options = buildEmulatorOptions(flags, loadEmulatorSecrets());
  if (flags.stateFile !== undefined) options.seed = await readStateFile(flags.stateFile);
  const logger = createLogger({ level: flags.logLevel, name: 'dcs-emulator' });
  if (logger.isLevelEnabled('debug')) options.onRequest = (entry) => logger.debug(entry, 'request');
  if (flags.ak === undefined) {
    process.stderr.write(
      'dcs-cleanup emulator: accepting the public demo AK/SK (DEMO_CREDENTIALS): local use only\n',
    );
  }
  const emulator = await startEmulator(options);
  process.stdout.write(`${JSON.stringify(describeStart(emulator, flags.ak ?? DEMO_CREDENTIALS.ak))}\n`);
  return {
    onSignal: (signal) => logger.info({ signal }, 'shutting down'),
    close: async () => {
      await emulator.close();
      logger.info('emulator stopped');
      logger.flush();
    },
  };
}

function describeStart(emulator: Emulator, accessKeyId: string): Record<string, unknown> {
  const { projects } = emulator.inventory();
  return {
    event: 'emulator_started',
    url: emulator.url,
    access_key_id: accessKeyId,
    projects: projects.map((p) => ({
      project_id: p.project_id,
      instance_ids: p.instances.map((i) => i.instance_id),
    })),
    tasks: projects.reduce((sum, p) => sum + p.instances.reduce((n, i) => n + i.tasks, 0), 0),
  };
}

async function readStateFile(path: string): Promise<EmulatorOptions['seed']> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CleanupError('INVALID_INPUT', `--state-file ${path}: cannot read it`, { cause: err });
  }
  try {
    return parseEmulatorStateFile(JSON.parse(text), `state file ${path}`);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new CleanupError('INVALID_INPUT', `state file ${path}: ${err.message}`);
    throw err;
  }
}
