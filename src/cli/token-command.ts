/**
 * `dcs-cleanup token hash`: the SHA-256 hex digest of a token read from stdin, the form
 * CLEANUP_API_TOKENS_FILE stores, so an operator never writes a token into a file or a command line.
 */
import type { Command } from 'commander';
import { tokenDigest } from '../api/token-file.js';
import { MIN_TOKEN_LENGTH } from '../api/api-auth.js';
import { CleanupError } from '../errors.js';
import { EXIT_CODES, runCommand } from './run-command.js';

/** The most stdin `token hash` reads: a token is short, a mistaken pipe is not. */
const MAX_INPUT_BYTES = 64 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INPUT_BYTES) {
      throw new CleanupError('INVALID_INPUT', 'stdin holds more than a token (64 KiB read)', {
        field: 'stdin',
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The digest of the token in `input` (one line; the line break is not part of it). */
export function hashTokenInput(input: string): string {
  const token = input.replace(/\r?\n$/, '');
  if (token.includes('\n') || /\s/.test(token)) {
    throw new CleanupError('INVALID_INPUT', 'the token must be one line without spaces', { field: 'stdin' });
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new CleanupError('INVALID_INPUT', `the token must be at least ${MIN_TOKEN_LENGTH} characters`, {
      field: 'stdin',
    });
  }
  return tokenDigest(token);
}

export function registerTokenCommand(program: Command): void {
  const token = program
    .command('token')
    .description('Helpers for the scoped API tokens of CLEANUP_API_TOKENS_FILE.');
  token
    .command('hash')
    .description('Read a token from stdin and print its SHA-256 hex digest (what the tokens file stores).')
    .addHelpText('after', '\nExample:\n  openssl rand -hex 32 | tee ci.token | dcs-cleanup token hash\n')
    .action(
      runCommand(async () => {
        process.stdout.write(`${hashTokenInput(await readStdin())}\n`);
        return EXIT_CODES.ok;
      }),
    );
}
