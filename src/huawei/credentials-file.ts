/**
 * The credentials file of the official SDKs and KooCLI: INI profiles.
 *
 *   [default]
 *   ak = ...
 *   sk = ...
 *   security_token = ...   (optional: temporary credentials)
 *   project_id = ...       (optional)
 *
 * `;` and `#` start comment lines; keys are case-insensitive. Pure: the caller reads the file.
 */
import { CleanupError } from '../errors.js';

export interface CredentialsProfile {
  ak: string;
  sk: string;
  securityToken?: string | undefined;
  projectId?: string | undefined;
}

/** The profile `name` of `text`; INVALID_CONFIG naming the profile and the missing key, never a value. */
export function parseCredentialsProfile(text: string, name: string, where: string): CredentialsProfile {
  const values = readSection(text, name);
  if (values === undefined) {
    throw new CleanupError('INVALID_CONFIG', `${where}: no profile [${name}]`, {
      field: 'CLOUD_SDK_PROFILE',
    });
  }
  const missing = ['ak', 'sk'].filter((key) => !values.has(key));
  if (missing.length > 0) {
    throw new CleanupError('INVALID_CONFIG', `${where}: profile [${name}] has no ${missing.join(' and ')}`, {
      field: 'CLOUD_SDK_CREDENTIALS_FILE',
    });
  }
  return {
    ak: values.get('ak')!,
    sk: values.get('sk')!,
    securityToken: values.get('security_token'),
    projectId: values.get('project_id'),
  };
}

function readSection(text: string, name: string): Map<string, string> | undefined {
  let section: string | undefined;
  let found: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      section = header[1];
      if (section === name) found ??= new Map();
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== name || eq <= 0 || found === undefined) continue;
    const value = line.slice(eq + 1).trim();
    if (value !== '') found.set(line.slice(0, eq).trim().toLowerCase(), value);
  }
  return found;
}
