import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { EXIT_CODES, runCommand } from './run-command.js';

/** A health probe must answer well within Docker's default 30 s healthcheck timeout. */
const HEALTHCHECK_TIMEOUT_MS = 2_000;

export function registerHealthcheckCommand(program: Command): void {
  program
    .command('healthcheck')
    .description(
      "Exit 0 when a local HTTP endpoint answers 2xx within 2 s, else 1: the container image's HEALTHCHECK.",
    )
    .option('--url <url>', 'what to probe (default http://127.0.0.1:<API_PORT>/healthz, the API)')
    .addHelpText(
      'after',
      '\nA worker with METRICS_PORT=9464:\n  dcs-cleanup healthcheck --url http://127.0.0.1:9464/metrics\n',
    )
    .action(
      runCommand(async (flags: { url?: string }) => {
        const url = flags.url ?? `http://127.0.0.1:${loadConfig().API_PORT}/healthz`;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(HEALTHCHECK_TIMEOUT_MS) });
          await response.body?.cancel();
          if (response.ok) return EXIT_CODES.ok;
          process.stderr.write(`dcs-cleanup: ${url} answered ${response.status}\n`);
        } catch (err) {
          process.stderr.write(
            `dcs-cleanup: ${url} did not answer: ${err instanceof Error ? err.message : String(err)}\n`,
          );
        }
        return EXIT_CODES.failure;
      }),
    );
}
