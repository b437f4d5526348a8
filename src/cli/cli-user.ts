import { hostname, userInfo } from 'node:os';

/** Who runs a CLI command, as run records and plan files name them: `user@host`. */
export function describeUser(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // Some containers run as a uid without a passwd entry.
  }
  return `${user}@${hostname()}`;
}
