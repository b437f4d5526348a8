import { expect } from 'vitest';
import { CleanupError, isCleanupError } from '../../src/errors.js';

/** The INVALID_CONFIG error `fn` throws; fails the test when it throws nothing or something else. */
export function configError(fn: () => unknown): CleanupError {
  try {
    fn();
  } catch (err) {
    expect(isCleanupError(err, 'INVALID_CONFIG'), String(err)).toBe(true);
    return err as CleanupError;
  }
  throw new Error('expected an INVALID_CONFIG error, nothing was thrown');
}
