// A sparkline is an SVG polyline drawn from a series (null = no data at that point): cheap enough
// for every app of the overview, no chart library needed.
import { s } from './dom.js';

/** @param {(number|null)[]} values */
export function sparkline(values, label, kind = '') {
  const w = 120;
  const ht = 28;
  const vals = (values ?? []).map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
  const present = vals.filter((v) => v !== null);
  const max = Math.max(...present, 0);
  const min = Math.min(...present, 0);
  const span = max - min || 1;
  const n = Math.max(vals.length - 1, 1);
  const runs = [];
  let run = [];
  vals.forEach((v, i) => {
    if (v === null) {
      if (run.length) runs.push(run);
      run = [];
      return;
    }
    run.push(`${((i / n) * w).toFixed(1)},${(ht - 2 - ((v - min) / span) * (ht - 4)).toFixed(1)}`);
  });
  if (run.length) runs.push(run);
  const svg = s(
    'svg',
    { class: ['spark', kind], viewBox: `0 0 ${w} ${ht}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
    s('title', null, label),
    runs.map((points) =>
      points.length === 1
        ? s('circle', { cx: points[0].split(',')[0], cy: points[0].split(',')[1], r: 1.5 })
        : s('polyline', { points: points.join(' ') }),
    ),
  );
  return svg;
}

/** the last number of a series, or null */
export function last(values) {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) if (typeof values[i] === 'number') return values[i];
  return null;
}
