// One app's processes: replicas per type with a scale control each, restart/stop/start, and the
// containers (state, uptime, restarts, CPU, memory). While a scale runs the replicas are re-read
// every 1.5 s, so the page shows them change.
import { act, read } from './api.js';
import { busy, bytes, errorBox, fill, h, num, section, table } from './dom.js';
import { fromInfo } from './overview-page.js';

const MAX_REPLICAS = 50;

function uptime(s) {
  if (s === null || s === undefined) return '–';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

/** apps:info as a ps:report without the usage figures, to show something while ps:report runs */
function quickReport(info) {
  const r = fromInfo(info);
  return {
    ...r,
    canScale: true,
    fixedBy: [],
    containers: info.containers.map((c, i) => ({
      ...c,
      ...r.containers[i],
      uptimeSeconds: null,
      cpuPercent: null,
      memoryBytes: null,
      memoryLimitBytes: null,
    })),
  };
}

export function processesSection(ctx) {
  const err = errorBox();
  const types = h('div', { class: 'types' });
  const containers = h('div', { class: 'scroll' });
  const controls = h('div', { class: 'row' });
  const el = section('processes', 'Processes', err, types, controls, containers);
  let report = null;
  /** scales running: the controls are kept (with their spinner) and only the figures change */
  let scaling = 0;

  const render = () => {
    if (!report) return;
    ctx.setReport(report);
    const running = {};
    for (const c of report.containers) if (!c.oneOff && c.state === 'running') running[c.process] = (running[c.process] ?? 0) + 1;
    const entries = Object.entries(report.formation);
    const sameTypes = entries.length > 0 && entries.every(([p]) => types.querySelector(`[data-process="${CSS.escape(p)}"]`));
    if (sameTypes && (scaling > 0 || document.activeElement?.closest?.('.types'))) {
      // a scale runs or the user is typing a count: refresh only the figures, not the controls
      for (const [p, n] of entries) {
        const row = types.querySelector(`[data-process="${CSS.escape(p)}"]`);
        const cell = row?.querySelector('[data-running]');
        const wanted = row?.querySelector('[data-wanted]');
        if (cell) cell.textContent = String(running[p] ?? 0);
        if (wanted) wanted.textContent = String(n);
      }
    } else {
      fill(
        types,
        entries.length === 0 ? h('p', { class: 'muted' }, 'No process types yet: the first push sets web=1.') : null,
        entries.map(([p, n]) => {
          const fixed = !report.canScale && report.fixedBy.includes(p);
          const input = h('input', { type: 'number', min: 0, max: MAX_REPLICAS, value: n, 'aria-label': `${p} replicas`, disabled: fixed });
          const button = h('button', { type: 'button', disabled: fixed }, 'Scale');
          button.addEventListener('click', () => scale(button, p, input.value));
          return h(
            'div',
            { class: 'type', 'data-process': p },
            h('span', { class: 'type-name' }, p),
            h(
              'span',
              { class: 'type-count' },
              h('span', { 'data-running': '' }, String(running[p] ?? 0)),
              ' running of ',
              h('span', { 'data-wanted': '' }, String(n)),
            ),
            h('span', { class: 'type-scale' }, input, button),
            fixed ? h('span', { class: 'muted' }, 'set by app.json formation') : null,
          );
        }),
      );
    }
    const rows = report.containers.filter((c) => !c.oneOff);
    fill(
      containers,
      rows.length === 0
        ? h('p', { class: 'muted' }, report.stopped ? 'Stopped: no containers run.' : 'No containers.')
        : table(
            ['process', 'release', 'state', 'uptime', 'restarts', 'CPU', 'memory'],
            rows.map((c) =>
              h(
                'tr',
                { class: c.state !== 'running' || c.restarts > 0 ? 'bad' : '' },
                h('td', null, `${c.process}.${c.replica}`, c.node ? ` on ${c.node}` : ''),
                h('td', null, `v${c.release}`),
                h('td', null, c.state),
                h('td', null, uptime(c.uptimeSeconds)),
                h('td', null, String(c.restarts)),
                h('td', null, c.cpuPercent === null ? '–' : `${num(c.cpuPercent)}%`),
                h('td', null, bytes(c.memoryBytes), c.memoryLimitBytes ? ` / ${bytes(c.memoryLimitBytes)}` : ''),
              ),
            ),
          ),
    );
  };

  const load = async () => {
    try {
      if (!report) {
        // apps:info answers at once; ps:report waits on Docker's per-container stats (a second or two)
        const info = await read(['apps:info', ctx.app]).catch(() => null);
        if (info && !report) {
          report = quickReport(info);
          render();
        }
      }
      report = await read(['ps:report', ctx.app]);
      render();
    } catch (e) {
      fill(types, h('p', { class: 'error' }, e.message));
    }
  };

  const scale = (button, process, value) =>
    busy(button, 'Scaling…', err, async () => {
      scaling++;
      const watch = setInterval(load, 1500);
      try {
        await act(['ps:scale', ctx.app, `${process}=${value}`]);
      } finally {
        clearInterval(watch);
        scaling--;
        await ctx.refresh();
      }
    });

  const action = (label, busyLabel, argv) => {
    const b = h('button', { type: 'button' }, label);
    b.addEventListener('click', () =>
      busy(b, busyLabel, err, async () => {
        try {
          await act([...argv, ctx.app]);
        } finally {
          await ctx.refresh();
        }
      }),
    );
    return b;
  };
  fill(
    controls,
    action('Restart', 'Restarting…', ['ps:restart']),
    action('Stop', 'Stopping…', ['ps:stop']),
    action('Start', 'Starting…', ['ps:start']),
  );
  return { el, load };
}
