/** The charts' arithmetic: round axis tops and where the marks' labels go. Pure, so tests need no DOM. */

/** A round upper bound whose quarters are round too (both axes): 1, 2, 4 or 8 × 10^n, so no tick reads 6.25. */
export function quarterMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 8, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** Rows of mark labels at the top of the plot; a label that fits none is left to the tooltip. */
const LABEL_ROWS = 2;

/**
 * Rows for the marks' labels, each drawn left of its line: a label goes in the first row where it
 * ends short of the label to its right and starts inside the chart; one that fits none is left to
 * the tooltip. Placed right to left, so the newest events (the ones just made) keep their labels.
 */
export function placeLabels(xs: { x: number; width: number }[], rows = LABEL_ROWS, minX = 0): (number | null)[] {
  const lefts = Array.from({ length: rows }, () => Infinity);
  const placed: (number | null)[] = xs.map(() => null);
  const order = xs.map((_, i) => i).sort((a, b) => xs[b]!.x - xs[a]!.x);
  for (const i of order) {
    const { x, width } = xs[i]!;
    const right = x - 3;
    const left = right - width;
    if (left < minX) continue;
    const row = lefts.findIndex((edge) => right + 6 <= edge);
    if (row === -1) continue;
    placed[i] = row;
    lefts[row] = left;
  }
  return placed;
}

/** A round upper bound for whole counts: a multiple of 4, so the quarter ticks are whole. */
export function wholeMax(value: number): number {
  return Math.max(4, Math.ceil(value / 4) * 4);
}
