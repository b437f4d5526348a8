/** Medians, ratios and the target check. */

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * One figure of the report: `ours` and `baseline` are medians over rounds, `ratio` the median of the
 * per-round ratios (each round measures both sides back to back, so load drifts cancel out).
 * `target` is `{ max }` or `{ min }` on the ratio, or absent for a figure reported without a target.
 */
export function buildFigure({ id, title, unit, rounds, target, note }) {
  const ours = median(rounds.map((r) => r.ours));
  const baseline = median(rounds.map((r) => r.baseline));
  const ratio = median(rounds.map((r) => r.ours / r.baseline));
  const met =
    target === undefined ? null : target.max !== undefined ? ratio <= target.max : ratio >= target.min;
  return { id, title, unit, ours, baseline, ratio, target: target ?? null, met, rounds, note: note ?? null };
}

/** Rotates `arms` by `round`, so no arm always runs first (A B C, B C A, C A B...). */
export function rotate(arms, round) {
  const k = round % arms.length;
  return [...arms.slice(k), ...arms.slice(0, k)];
}
