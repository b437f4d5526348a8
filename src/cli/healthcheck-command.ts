import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.js';
import { CleanupError } from '../errors.js';
import { EXIT_CODES, runCommand } from './run-command.js';

/** A health probe must answer well within Docker's default 30 s healthcheck timeout. */
const HEALTHCHECK_TIMEOUT_MS = 2_000;

interface HealthcheckFlags {
  url?: string;
  worker?: boolean;
}

export function registerHealthcheckCommand(program: Command): void {
  program
    .command('healthcheck')
    .description(
      "Exit 0 when a local HTTP endpoint answers 2xx within 2 s, else 1: the container image's HEALTHCHECK.",
    )
    .option('--url <url>', 'what to probe (default http://127.0.0.1:<API_PORT>/healthz, the API)')
    .option(
      '--worker',
      "probe the worker's /healthz on METRICS_PORT instead (fails once Redis has been away longer than WORKER_HEALTH_GRACE_MS)",
    )
    .addHelpText(
      'after',
      '\nA worker with METRICS_PORT=9464 (the image sets it):\n  dcs-cleanup healthcheck --worker\n',
    )
    .action(
      runCommand(async (flags: HealthcheckFlags) => {
        const url = flags.url ?? defaultUrl(loadConfig(), flags.worker === true);
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(HEALTHCHECK_TIMEOUT_MS) });
          const body = await response.text();
          if (response.ok) return EXIT_CODES.ok;
          process.stderr.write(`dcs-cleanup: ${url} answered ${response.status} ${body.slice(0, 200)}\n`);
        } catch (err) {
          process.stderr.write(
            `dcs-cleanup: ${url} did not answer: ${err instanceof Error ? err.message : String(err)}\n`,
          );
        }
        return EXIT_CODES.failure;
      }),
    );
}

/** The API's /healthz, or the worker's on its metrics server (reached on loopback when it listens on all). */
function defaultUrl(config: Config, worker: boolean): string {
  if (!worker) return `http://127.0.0.1:${config.API_PORT}/healthz`;
  if (config.METRICS_PORT === 0) {
    throw new CleanupError('INVALID_INPUT', '--worker needs METRICS_PORT: the worker serves /healthz there', {
      field: 'METRICS_PORT',
    });
  }
  const host = ['0.0.0.0', '::'].includes(config.METRICS_HOST) ? '127.0.0.1' : config.METRICS_HOST;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${shown}:${config.METRICS_PORT}/healthz`;
}
