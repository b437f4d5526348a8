import { describe, expect, it } from 'vitest';
import { bullBoardFlag } from '../../../src/cli/serve-command.js';
import { resolveBullBoard } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/config.js';

describe('serve: Bull Board is opt-in', () => {
  it('is off by default, on with --bull-board or CLEANUP_BULL_BOARD, writable only with --bull-board-writable', () => {
    const off = loadConfig({});
    const on = loadConfig({ CLEANUP_BULL_BOARD: 'true' });
    const resolve = (flags: Parameters<typeof bullBoardFlag>[0], config: typeof off) =>
      resolveBullBoard(bullBoardFlag(flags), config);
    expect(resolve({}, off)).toBe('off');
    expect(resolve({ bullBoard: true }, off)).toBe('read-only');
    expect(resolve({}, on)).toBe('read-only');
    expect(resolve({}, loadConfig({ CLEANUP_BULL_BOARD: '1' }))).toBe('read-only');
    expect(resolve({ bullBoardWritable: true }, off)).toBe('writable');
    expect(resolve({ bullBoardWritable: true }, on)).toBe('writable');
  });

  it('refuses a CLEANUP_BULL_BOARD that is not a boolean, naming it', () => {
    expect(() => loadConfig({ CLEANUP_BULL_BOARD: 'yes please' })).toThrow(
      /CLEANUP_BULL_BOARD: must be true, false, 1 or 0/,
    );
  });
});
