// The app page's charts, drawn by uPlot (one small library, canvas, no framework): req/s by status
// class, latency p50/p95/p99, CPU, memory and restarts over 1h, 1d or 1w.
import uPlot from '/assets/vendor/uPlot.esm.js';
import { bytes, h, num, secs } from './dom.js';

const COLORS = ['#2f7d32', '#1565c0', '#ef6c00', '#c62828', '#6a1b9a'];

/** The chart set of /api/apps/<app>/metrics, as [title, series[], format] */
function specs(m) {
  return [
    ['Requests per second by status', ['2xx', '3xx', '4xx', '5xx'].map((k) => ({ label: k, values: m.rps?.[k] ?? [] })), (v) => num(v, 2)],
    ['Latency', ['p50', 'p95', 'p99'].map((k) => ({ label: k, values: m[k] ?? [] })), (v) => secs(v)],
    ['CPU (cores)', [{ label: 'cpu', values: m.cpu ?? [] }], (v) => num(v, 2)],
    ['Memory', [{ label: 'memory', values: m.memory ?? [] }], (v) => bytes(v)],
    ['Restarts', [{ label: 'restarts', values: m.restarts ?? [] }], (v) => num(v, 0)],
  ];
}

/**
 * Draws the charts into `box` (replacing what was there) and keeps them as wide as the box.
 * Returns a function that removes them.
 */
export function drawCharts(box, metrics) {
  box.replaceChildren();
  const plots = [];
  const t = metrics.t ?? [];
  for (const [title, series, fmt] of specs(metrics)) {
    const holder = h('figure', { class: 'chart', 'aria-label': title });
    box.append(holder);
    const empty = series.every((s) => s.values.every((v) => v === null || v === undefined));
    if (t.length === 0 || empty) {
      holder.append(h('figcaption', null, title), h('p', { class: 'muted' }, 'no data yet'));
      continue;
    }
    const opts = {
      title,
      width: Math.max(holder.clientWidth || box.clientWidth || 300, 240),
      height: 170,
      scales: { x: { time: true } },
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[(title.startsWith('Requests') ? i : i + 1) % COLORS.length],
          width: 1.5,
          value: (_u, v) => fmt(v),
        })),
      ],
      axes: [{}, { size: 64, values: (_u, vals) => vals.map((v) => fmt(v)) }],
    };
    const data = [t, ...series.map((s) => t.map((_x, i) => (typeof s.values[i] === 'number' ? s.values[i] : null)))];
    plots.push([holder, new uPlot(opts, data, holder)]);
  }
  const resize = () => {
    for (const [holder, plot] of plots) plot.setSize({ width: Math.max(holder.clientWidth, 240), height: 170 });
  };
  const observer = new ResizeObserver(resize);
  observer.observe(box);
  return () => {
    observer.disconnect();
    for (const [, plot] of plots) plot.destroy();
  };
}
