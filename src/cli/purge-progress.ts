import type { RunProgress } from '../queue/run-tracker.js';
import { formatElapsed } from '../purge/run-report.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressPrinter {
  update(progress: RunProgress): void;
  /** Ends the bar's line (terminal) or prints the last state (plain lines). */
  finish(progress: RunProgress): void;
}

const BAR_WIDTH = 30;

/**
 * Progress of `--wait`: a bar redrawn in place on a terminal; on a pipe or a log file, one plain
 * line at most every `intervalMs` (default 5 s) so a CI log stays readable.
 */
export function createProgressPrinter(stream: ProgressStream, intervalMs = 5_000): ProgressPrinter {
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let lastText = '';
  if (stream.isTTY) {
    return {
      update(p) {
        stream.write(`\r${renderBar(p)}\x1b[K`);
      },
      finish(p) {
        stream.write(`\r${renderBar(p)}\x1b[K\n`);
      },
    };
  }
  return {
    update(p) {
      const text = renderLine(p);
      if (p.elapsedMs - lastLineAt < intervalMs || text === lastText) return;
      lastLineAt = p.elapsedMs;
      lastText = text;
      stream.write(`${text}\n`);
    },
    finish(p) {
      const text = renderLine(p);
      if (text !== lastText) stream.write(`${text}\n`);
    },
  };
}

function ended(p: RunProgress): number {
  return p.total - p.open;
}

function renderBar(p: RunProgress): string {
  const share = p.total === 0 ? 1 : ended(p) / p.total;
  const filled = Math.round(share * BAR_WIDTH);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  return `[${bar}] ${ended(p)}/${p.total} ${describeCounts(p)} ${formatElapsed(p.elapsedMs)}${p.paused ? ' PAUSED' : ''}`;
}

function renderLine(p: RunProgress): string {
  const paused = p.paused ? ' (queue paused: see `dcs-cleanup status`)' : '';
  return `progress: ${ended(p)}/${p.total} ended, ${describeCounts(p)}, ${p.open} open, ${formatElapsed(p.elapsedMs)}${paused}`;
}

function describeCounts(p: RunProgress): string {
  const unknown = p.unknown > 0 ? `, unknown ${p.unknown}` : '';
  return `deleted ${p.deleted}, already gone ${p.already_gone}, dead-lettered ${p.dead_lettered}${unknown}`;
}
