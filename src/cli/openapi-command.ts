import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { formatApiDocument } from '../api/openapi-routes.js';
import { EXIT_CODES, runCommand } from './run-command.js';

export function registerOpenApiCommand(program: Command): void {
  program
    .command('openapi')
    .description(
      'Print the HTTP API OpenAPI 3.1 document, generated from the route schemas (npm run openapi writes docs/openapi.json).',
    )
    .option('--out <file>', 'write it to this file instead of stdout')
    .action(
      runCommand(async (flags: { out?: string }) => {
        const text = formatApiDocument();
        if (flags.out === undefined) process.stdout.write(text);
        else await writeFile(flags.out, text);
        return EXIT_CODES.ok;
      }),
    );
}
