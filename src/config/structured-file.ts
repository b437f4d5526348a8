/**
 * Settings files an operator writes (scoped tokens, webhooks): YAML or JSON (JSON is YAML), parsed
 * and validated whole by a zod schema, with INVALID_CONFIG naming the file and every bad field.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { z } from 'zod';
import { CleanupError } from '../errors.js';

/** `['tokens', 2, 'sha256']` -> `tokens[2].sha256`. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path)
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(file)' : out;
}

/** Parses `text` (the content of `path`, named in errors) with `schema`; INVALID_CONFIG naming `variable`. */
export function parseStructuredText<S extends z.ZodType>(
  text: string,
  schema: S,
  where: { variable: string; path: string },
): z.output<S> {
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 0 });
  } catch (err) {
    const first = (err as Error).message.split('\n')[0] ?? 'unreadable';
    throw new CleanupError(
      'INVALID_CONFIG',
      `${where.variable}: ${where.path} is not YAML or JSON (${first})`,
      {
        field: where.variable,
      },
    );
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`);
  throw new CleanupError(
    'INVALID_CONFIG',
    `${where.variable}: ${where.path} is invalid:\n  ${problems.join('\n  ')}`,
    { field: where.variable },
  );
}

/** Reads and parses the file at `path`; INVALID_CONFIG when it cannot be read or is invalid. */
export function readStructuredFile<S extends z.ZodType>(
  path: string,
  schema: S,
  variable: string,
): z.output<S> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CleanupError('INVALID_CONFIG', `${variable}: cannot read ${path} (${code})`, {
      field: variable,
    });
  }
  return parseStructuredText(text, schema, { variable, path });
}
