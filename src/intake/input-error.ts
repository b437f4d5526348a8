import { CleanupError } from '../errors.js';

/** An INVALID_INPUT error about one line: `line N: problem`, or `line N: field: problem`. */
export function inputError(line: number, problem: string, field?: string): CleanupError {
  const where = `line ${line}`;
  return new CleanupError('INVALID_INPUT', `${where}: ${field === undefined ? '' : `${field}: `}${problem}`, {
    field: field === undefined ? where : `${where}: ${field}`,
  });
}

/** `value` JSON-quoted and cut to `maxChars`, safe to put in a one-line message. */
export function quoteForMessage(value: string, maxChars = 40): string {
  return JSON.stringify(value.length > maxChars ? `${value.slice(0, maxChars)}…` : value);
}
