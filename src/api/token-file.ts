/**
 * Scoped API tokens (CLEANUP_API_TOKENS_FILE): a YAML or JSON file listing each token as the SHA-256
 * hex digest of the token (`dcs-cleanup token hash` makes one), a label (logged with every request
 * and recorded by what a request starts) and its scopes. The file never holds a token itself.
 *
 *   tokens:
 *     - label: ci-pipeline
 *       sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *       scopes: [read, enqueue]
 *
 * The file is validated whole; a change is picked up (fs.watch, and an mtime poll for the
 * filesystems and atomic renames fs.watch misses) and a bad new file keeps the tokens in use.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { readStructuredFile } from '../config/structured-file.js';
import type { Logger } from '../observability/logger.js';

export const TOKEN_SCOPES = ['read', 'enqueue', 'purge', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const TOKENS_FILE_VARIABLE = 'CLEANUP_API_TOKENS_FILE';

const tokenEntrySchema = z
  .object({
    label: z
      .string()
      .regex(/^[A-Za-z0-9._:@-]{1,64}$/, 'letters, digits and . _ : @ - only, at most 64 characters'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64 hex digits of `dcs-cleanup token hash` (never the token)')
      .transform((v) => v.toLowerCase()),
    scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, 'name at least one scope: read, enqueue, purge, admin'),
  })
  .strict();

export const tokensFileSchema = z
  .object({ tokens: z.array(tokenEntrySchema).min(1, 'list at least one token') })
  .strict()
  .superRefine((file, ctx) => {
    const labels = new Set<string>();
    const digests = new Set<string>();
    file.tokens.forEach((t, i) => {
      if (labels.has(t.label))
        ctx.addIssue({ code: 'custom', path: ['tokens', i, 'label'], message: 'used twice' });
      if (digests.has(t.sha256))
        ctx.addIssue({ code: 'custom', path: ['tokens', i, 'sha256'], message: 'used twice' });
      labels.add(t.label);
      digests.add(t.sha256);
    });
  });

export interface TokenGrant {
  label: string;
  scopes: readonly TokenScope[];
}

/** SHA-256 hex of a token, as the file stores it. */
export const tokenDigest = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/** The grants of a tokens file, by digest; INVALID_CONFIG naming the bad field. */
export function readTokensFile(path: string): Map<string, TokenGrant> {
  const file = readStructuredFile(path, tokensFileSchema, TOKENS_FILE_VARIABLE);
  return new Map(file.tokens.map((t) => [t.sha256, { label: t.label, scopes: t.scopes }]));
}

export interface TokenStore {
  /** The grant of the token whose SHA-256 hex digest is `digest`. */
  lookup(digest: string): TokenGrant | undefined;
  /** Re-reads the file now (the watch and the poll call it); false when the new file was refused. */
  reload(): boolean;
  close(): void;
}

export interface TokenStoreOptions {
  path: string;
  logger: Logger;
  /** The mtime poll, for when fs.watch misses a change (default 5 s; 0: no poll). */
  pollMs?: number;
}

/** Loads the file (throws when it is bad at start) and follows its changes. */
export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const { path, logger } = options;
  let grants = readTokensFile(path);
  let watcher: FSWatcher | undefined;
  let closed = false;
  let seen = fingerprint(path);
  const reload = (): boolean => {
    seen = fingerprint(path);
    try {
      grants = readTokensFile(path);
      logger.info({ tokens: grants.size, file: path }, 'api tokens reloaded');
      return true;
    } catch (err) {
      logger.error(
        { err: (err as Error).message, file: path },
        'api tokens file refused: the previous tokens stay in use',
      );
      return false;
    }
  };
  const check = (): void => {
    if (fingerprint(path) === seen) return;
    reload();
    if (watcher === undefined) arm();
  };
  // A file replaced by a rename (Kubernetes secrets, editors) leaves the watch on the old inode:
  // watch the new one from then on.
  const arm = (): void => {
    watcher?.close();
    watcher = undefined;
    if (closed) return;
    try {
      watcher = watch(path, { persistent: false }, (event) => {
        check();
        if (event === 'rename') arm();
      });
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined;
    }
  };
  arm();
  const pollMs = options.pollMs ?? 5_000;
  const poller = pollMs > 0 ? setInterval(check, pollMs) : undefined;
  poller?.unref();
  return {
    lookup: (digest) => grants.get(digest),
    reload,
    close() {
      closed = true;
      watcher?.close();
      if (poller) clearInterval(poller);
    },
  };
}

/** What changes when the file is rewritten or replaced: inode, size and mtime. */
function fingerprint(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
