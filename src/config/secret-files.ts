/**
 * `<NAME>_FILE` variables: a secret read from a mounted file (Docker and Kubernetes secrets) instead
 * of an environment value, which `docker inspect`, `/proc/<pid>/environ` and crash reports show.
 * The file's content (one trailing newline or blank run removed) becomes the value of NAME.
 */
import { readFileSync } from 'node:fs';

/** The variables that may come from a file, as `<NAME>_FILE`. */
export const SECRET_FILE_VARIABLES = [
  'REDIS_URL',
  'CLOUD_SDK_AK',
  'CLOUD_SDK_SK',
  'CLOUD_SDK_SECURITY_TOKEN',
  'CLEANUP_API_TOKEN',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'CLEANUP_WEBHOOK_SECRET',
] as const;

export interface SecretFileProblem {
  /** The variable to name in the error. */
  field: string;
  message: string;
}

export type ReadSecretFile = (path: string) => string;

const readUtf8: ReadSecretFile = (path) => readFileSync(path, 'utf8');

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Returns `env` with each `<NAME>_FILE` replaced by NAME's value read from the file, and the problems
 * met: NAME and NAME_FILE both set, or a file that cannot be read or is empty. Never the content.
 */
export function resolveSecretFiles(
  env: Readonly<Record<string, string | undefined>>,
  readFile: ReadSecretFile = readUtf8,
): { env: Record<string, string | undefined>; problems: SecretFileProblem[] } {
  const resolved: Record<string, string | undefined> = { ...env };
  const problems: SecretFileProblem[] = [];
  for (const name of SECRET_FILE_VARIABLES) {
    const fileVariable = `${name}_FILE`;
    const path = env[fileVariable];
    delete resolved[fileVariable];
    if (!isSet(path)) continue;
    if (isSet(env[name])) {
      problems.push({
        field: `${name},${fileVariable}`,
        message: `set ${name} or ${fileVariable}, not both`,
      });
      continue;
    }
    try {
      const value = readFile(path.trim()).replace(/\s+$/, '');
      if (value === '') problems.push({ field: fileVariable, message: `${path.trim()} is empty` });
      else resolved[name] = value;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      problems.push({ field: fileVariable, message: `cannot read ${path.trim()} (${code})` });
    }
  }
  return { env: resolved, problems };
}
