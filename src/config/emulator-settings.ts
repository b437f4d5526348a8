/** The emulator's own settings (EMULATOR_*): part of the one configuration schema, read alone by `emulator`. */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { optionalString } from './schema-parts.js';

/** One EMULATOR_EXTRA_KEYS entry: an AK, its SK and optionally the projects it may act on. */
const EXTRA_KEY_PATTERN = /^[A-Za-z0-9]{1,64}:[^:,\s]{1,128}(:[A-Za-z0-9-]{1,64}(\+[A-Za-z0-9-]{1,64})*)?$/;

/** One more key pair of the emulator (EMULATOR_EXTRA_KEYS). */
export interface EmulatorExtraKey {
  ak: string;
  sk: string;
  projects?: string[];
}

/** The emulator's secrets, read alone: the emulator needs no other setting. */
export function loadEmulatorSecrets(env: Readonly<Record<string, string | undefined>> = process.env): {
  sk?: string;
  securityToken?: string;
  extraKeys?: EmulatorExtraKey[];
} {
  const result = z.object(emulatorSettingsShape).safeParse(env);
  if (!result.success) {
    // Names the variables, never a value: the entries hold secret keys.
    const fields = [...new Set(result.error.issues.map((i) => i.path.join('.')))];
    throw new CleanupError('INVALID_CONFIG', `${fields.join(', ')}: ${result.error.issues[0]?.message}`, {
      field: fields.join(','),
    });
  }
  const { EMULATOR_SK: sk, EMULATOR_SECURITY_TOKEN: securityToken, EMULATOR_EXTRA_KEYS: extra } = result.data;
  const extraKeys = extra?.split(',').map((entry): EmulatorExtraKey => {
    const [ak, keySk, projects] = entry.trim().split(':') as [string, string, string | undefined];
    return { ak, sk: keySk, ...(projects === undefined ? {} : { projects: projects.split('+') }) };
  });
  return {
    ...(sk === undefined ? {} : { sk }),
    ...(securityToken === undefined ? {} : { securityToken }),
    ...(extraKeys === undefined ? {} : { extraKeys }),
  };
}

export const emulatorSettingsShape = {
  EMULATOR_SK: optionalString.describe(
    'dcs-cleanup emulator: the secret key of its --ak (default: the public demo pair). Never a flag: flags show in ps.',
  ),
  EMULATOR_SECURITY_TOKEN: optionalString.describe(
    'dcs-cleanup emulator: require this X-Security-Token on every call (temporary credentials).',
  ),
  EMULATOR_EXTRA_KEYS: optionalString
    .refine(
      (v) => v === undefined || v.split(',').every((entry) => EXTRA_KEY_PATTERN.test(entry.trim())),
      'must be ak:sk or ak:sk:project+project entries separated by commas',
    )
    .describe(
      'dcs-cleanup emulator: more accounts, ak:sk[:project+project...] separated by commas (a key with projects is refused for others). Never logged.',
    ),
};
