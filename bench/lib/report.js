/** The readable table and the JSON summary. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

function formatNumber(value) {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function formatTarget(target) {
  if (target === null) return '(info)';
  return target.max !== undefined ? `<= ${target.max}x` : `>= ${target.min}x`;
}

function formatMet(met) {
  return met === null ? '' : met ? 'yes' : 'NO';
}

/** A fixed-width table: figure, ours, baseline, unit, ratio, target, met. */
export function formatTable(figures) {
  const header = ['figure', 'ours', 'baseline', 'unit', 'ratio', 'target', 'met'];
  const rows = figures.map((f) => [
    f.id,
    formatNumber(f.ours),
    formatNumber(f.baseline),
    f.unit,
    `${formatNumber(f.ratio)}x`,
    formatTarget(f.target),
    formatMet(f.met),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Writes bench/results/latest.json (gitignored) and returns its path. */
export function writeSummary(summary) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}latest.json`;
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
  return path;
}
