// The app's charts over the last hour, day or week; uPlot is loaded only when this section draws.
import { getJson } from './api.js';
import { fill, h, section } from './dom.js';
import { whileVisible } from './live-stream.js';

const RANGES = ['1h', '1d', '1w'];
const REFRESH_MS = 60_000;

export function chartsSection(ctx) {
  const box = h('div', { class: 'charts' });
  let range = '1h';
  let undraw = null;
  const buttons = RANGES.map((r) => {
    const b = h('button', { type: 'button', class: 'small', 'aria-pressed': String(r === range), 'data-range': r }, r);
    b.addEventListener('click', () => {
      range = r;
      for (const x of buttons) x.setAttribute('aria-pressed', String(x === b));
      load();
    });
    return b;
  });
  const el = section('charts', 'Charts', h('div', { class: 'row', role: 'group', 'aria-label': 'range' }, buttons), box);

  const load = async () => {
    try {
      const [m, { drawCharts }] = await Promise.all([
        getJson(`/api/apps/${encodeURIComponent(ctx.app)}/metrics?range=${range}`),
        import('./charts.js'),
      ]);
      undraw?.();
      undraw = drawCharts(box, m);
    } catch (e) {
      fill(box, h('p', { class: 'error' }, e.message));
    }
  };
  return { el, start: () => whileVisible(load, REFRESH_MS) };
}
