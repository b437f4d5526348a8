import { z } from 'zod';
import { CleanupError } from '../errors.js';

/** The characters of a DCS id (project, instance, task), as a regular-expression class body. */
export const ID_CHARS = 'A-Za-z0-9-';
/** The one id rule: 1 to 64 letters, digits or "-". Job ids are built on it (job-contract.ts). */
export const ID_PATTERN = new RegExp(`^[${ID_CHARS}]{1,64}$`);
export const ID_RULE = 'must be 1 to 64 letters, digits or "-"';
/** The id rule as a zod schema, for every schema that carries a DCS id. */
export const idSchema = z.string().regex(ID_PATTERN, ID_RULE);

/** True when `value` is a usable DCS identifier: 1 to 64 letters, digits or "-". */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Returns `value` when it is a valid identifier, else throws INVALID_ID naming `field`
 * (e.g. `task_id`, `tasks[3].task_id`). Checked before any request is built.
 */
export function validateId(value: unknown, field: string): string {
  if (isValidId(value)) return value;
  throw new CleanupError('INVALID_ID', `${field}: ${describeBadId(value)}`, { field });
}

function describeBadId(value: unknown): string {
  if (typeof value !== 'string') return `must be a string, got ${value === null ? 'null' : typeof value}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > 64) return `must be at most 64 characters, got ${value.length}`;
  return 'must contain only letters, digits and "-"';
}
