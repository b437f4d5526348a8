import { describe, expect, it } from 'vitest';
import { resolveBullBoard } from '../../../src/cli/serve-command.js';
import { loadConfig } from '../../../src/config/config.js';

describe('serve: Bull Board is opt-in', () => {
  it('is off by default, on with --bull-board or CLEANUP_BULL_BOARD, writable only with --bull-board-writable', () => {
    const off = loadConfig({});
    const on = loadConfig({ CLEANUP_BULL_BOARD: 'true' });
    expect(resolveBullBoard({}, off)).toBe('off');
    expect(resolveBullBoard({ bullBoard: true }, off)).toBe('read-only');
    expect(resolveBullBoard({}, on)).toBe('read-only');
    expect(resolveBullBoard({}, loadConfig({ CLEANUP_BULL_BOARD: '1' }))).toBe('read-only');
    expect(resolveBullBoard({ bullBoardWritable: true }, off)).toBe('writable');
  });

  it('refuses a CLEANUP_BULL_BOARD that is not a boolean, naming it', () => {
    expect(() => loadConfig({ CLEANUP_BULL_BOARD: 'yes please' })).toThrow(
      /CLEANUP_BULL_BOARD: must be true, false, 1 or 0/,
    );
  });
});
