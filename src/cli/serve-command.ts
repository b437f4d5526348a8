import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { createApp, startApi, type BullBoardMode } from '../app.js';
import { EXIT_CODES, runCommand, type RunningService } from './run-command.js';
import { parseIntOption } from './options.js';

interface ServeFlags {
  host?: string;
  port?: number;
  insecureNoAuth?: boolean;
  bullBoard?: boolean;
  bullBoardWritable?: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the HTTP API (enqueue deletions, job status, dead letters, purges, /metrics, Bull Board) until stopped.',
    )
    .option('--host <address>', 'address to listen on (default API_HOST, 127.0.0.1)')
    .option(
      '--port <port>',
      'port to listen on (default API_PORT, 8080)',
      parseIntOption('--port', 0, 65_535),
    )
    .option('--insecure-no-auth', 'run without CLEANUP_API_TOKEN: allowed only on a loopback host')
    .option('--bull-board', 'serve Bull Board at /admin/queues, read-only (default CLEANUP_BULL_BOARD, off)')
    .option(
      '--bull-board-writable',
      'serve Bull Board and let it retry, promote and remove jobs (implies --bull-board)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  CLEANUP_API_TOKEN=$(openssl rand -hex 32) dcs-cleanup serve --host 0.0.0.0 --port 8080\n',
    )
    .action(runCommand(runServe));
}

/** Bull Board as the flags ask; undefined leaves it to CLEANUP_BULL_BOARD. */
export function bullBoardFlag(
  flags: Pick<ServeFlags, 'bullBoard' | 'bullBoardWritable'>,
): BullBoardMode | undefined {
  if (flags.bullBoardWritable) return 'writable';
  return flags.bullBoard ? 'read-only' : undefined;
}

async function runServe(flags: ServeFlags): Promise<RunningService> {
  const app = createApp(loadConfig(), { role: 'api' });
  const { logger } = app;
  const api = await startApi(app, {
    host: flags.host,
    port: flags.port,
    insecureNoAuth: flags.insecureNoAuth,
    bullBoard: bullBoardFlag(flags),
  }).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  logger.info(
    {
      host: api.host,
      port: api.port,
      prefix: app.prefix,
      auth: api.auth,
      bull_board: api.bullBoard,
      purges: api.purges ? 'enabled' : 'disabled (no DCS credentials)',
    },
    'api listening',
  );
  if (api.auth === 'none')
    logger.warn(
      { host: api.host },
      'the API runs WITHOUT authentication (--insecure-no-auth, loopback only)',
    );
  return {
    onSignal: (signal) => logger.info({ signal }, 'shutting down'),
    ended: api.refused.then((err) => {
      logger.fatal({ err: err.message }, 'refusing to serve');
      process.stderr.write(`dcs-cleanup: ${err.message}\n`);
      return EXIT_CODES.failure;
    }),
    close: async () => {
      await api.close();
      await app.close();
      logger.info('api stopped');
      logger.flush();
    },
  };
}
