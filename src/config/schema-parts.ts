/** Building blocks of the configuration schema, shared by its sections. */
import { z } from 'zod';

/** A string; empty or blank counts as unset. */
export const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A decimal whole number in [min, max]; unset means `def`. An empty value is an error, not 0. */
export const intFrom = (def: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .default(def);

/** An address to listen on; unset means `def`, blank is an error. */
export const hostFrom = (def: string) => z.string().trim().min(1, 'must not be empty').default(def);
