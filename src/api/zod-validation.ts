/**
 * Request validation by the same zod schemas the OpenAPI document is generated from, plugged into
 * Fastify as its validator compiler: a route's `schema.body` (or params, querystring) is a zod schema.
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { ApiError, type FieldError } from './api-error.js';

/** At most this many bad fields are listed in one answer; the message says how many there were. */
export const MAX_LISTED_FIELDS = 100;

/** `['tasks', 3, 'task_id']` -> `tasks[3].task_id`; the empty path is the part itself (`body`). */
export function formatIssuePath(path: readonly PropertyKey[], part: string): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? part : out;
}

/** One INVALID_INPUT error listing every bad field (up to MAX_LISTED_FIELDS). */
export function toValidationError(error: z.ZodError, part: string): ApiError {
  const all: FieldError[] = error.issues.flatMap((issue) =>
    // One entry per unknown key, named by its own path, rather than one for the object holding them.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          field: formatIssuePath([...issue.path, key], part),
          message: 'unknown field',
        }))
      : [{ field: formatIssuePath(issue.path, part), message: issue.message }],
  );
  const fields = all.slice(0, MAX_LISTED_FIELDS);
  const more = all.length > fields.length ? ` (first ${fields.length} listed)` : '';
  const noun = all.length === 1 ? 'field' : 'fields';
  return new ApiError('INVALID_INPUT', `invalid request ${part}: ${all.length} bad ${noun}${more}`, fields);
}

/** Fastify validator compiler for zod schemas: the parsed value replaces the raw one. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'body');
  return (data: unknown) => {
    // A missing field says `required` rather than zod's "expected string, received undefined".
    const result = schema.safeParse(data, {
      error: (issue) => (issue.input === undefined ? 'required' : undefined),
    });
    return result.success ? { value: result.data } : { error: toValidationError(result.error, part) };
  };
};
