/** The points of a sparkline's path in a 100 × 20 box (null breaks the line), scaled to `max` or the values' own maximum. */
export function sparkPath(values: (number | null)[], max?: number): string {
  const top = max ?? Math.max(0, ...values.map((v) => v ?? 0));
  if (values.length < 2 || !(top > 0)) return values.length >= 2 ? `M0 19.5H100` : '';
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    const x = ((i / (values.length - 1)) * 100).toFixed(1);
    const y = (19.5 - (Math.min(v, top) / top) * 18.5).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x} ${y}`;
    pen = true;
  });
  return d;
}
