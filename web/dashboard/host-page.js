// The host (/host, admin): CPU, memory, disk, build queue, certificates expiring soon, add-on
// backups with their last success, and the Swarm nodes when the Swarm scheduler is in.
import { getJson } from './api.js';
import { ago, bytes, fill, h, num, section, table } from './dom.js';
import { whileVisible } from './live-stream.js';

const REFRESH_MS = 15_000;
const BACKUP_STALE_MS = 36 * 3600 * 1000;

function gauge(label, used, total, text) {
  return h(
    'div',
    { class: 'gauge' },
    h('span', { class: 'metric-label' }, label),
    h('meter', { min: 0, max: total || 1, value: used ?? 0, high: (total || 1) * 0.85, optimum: 0, 'aria-label': label }),
    h('span', { class: 'metric-value' }, text),
  );
}

function scrollTable(headers, rows) {
  return h('div', { class: 'scroll' }, table(headers, rows));
}

function cell(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function render(box, r) {
  const used = r.disk ? r.disk.total - r.disk.free : null;
  const nodeKeys = r.nodes?.length ? Object.keys(r.nodes[0]).slice(0, 8) : [];
  fill(
    box,
    section(
      'resources',
      'Resources',
      h(
        'div',
        { class: 'gauges' },
        gauge('CPU load', r.cpu?.load1, r.cpu?.cores, `${num(r.cpu?.load1, 2)} on ${r.cpu?.cores ?? '–'} cores`),
        gauge('memory', r.memory?.used, r.memory?.total, `${bytes(r.memory?.used)} of ${bytes(r.memory?.total)}`),
        r.disk ? gauge(`disk ${r.disk.path}`, used, r.disk.total, `${bytes(r.disk.free)} free of ${bytes(r.disk.total)}`) : null,
      ),
    ),
    section(
      'builds',
      'Build queue',
      h('p', { 'data-build-queue': '' }, `${r.buildQueue?.running ?? 0} running, ${r.buildQueue?.waiting ?? 0} waiting`),
    ),
    section(
      'certs',
      'Certificates expiring soon',
      r.certsExpiring?.length
        ? scrollTable(
            ['host', 'expires'],
            r.certsExpiring.map((c) =>
              h(
                'tr',
                { class: 'bad' },
                h('td', null, c.host),
                h('td', { title: c.notAfter }, `${String(c.notAfter).slice(0, 10)} (${ago(c.notAfter)})`),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'None in the next weeks.'),
    ),
    section(
      'backups',
      'Add-on backups',
      r.addonBackups?.length
        ? scrollTable(
            ['service', 'last success', 'last error'],
            r.addonBackups.map((b) => {
              const stale = !b.lastSuccess || Date.now() - Date.parse(b.lastSuccess) > BACKUP_STALE_MS;
              return h(
                'tr',
                { class: stale ? 'bad' : '' },
                h('td', null, b.service),
                h('td', { title: b.lastSuccess ?? '' }, b.lastSuccess ? ago(b.lastSuccess) : 'never'),
                h('td', null, b.lastError ?? '–'),
              );
            }),
          )
        : h('p', { class: 'muted' }, 'No add-on services.'),
    ),
    r.nodes === null || r.nodes === undefined
      ? null
      : section(
          'nodes',
          'Nodes',
          r.nodes.length
            ? scrollTable(
                nodeKeys,
                r.nodes.map((n) =>
                  h(
                    'tr',
                    null,
                    nodeKeys.map((k) => h('td', null, cell(n[k]))),
                  ),
                ),
              )
            : h('p', { class: 'muted' }, 'No nodes.'),
        ),
  );
}

export function hostPage(main) {
  document.title = 'paas: host';
  const box = h(
    'div',
    { class: 'host' },
    h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading…'),
  );
  fill(main, h('h1', null, 'Host'), box);
  whileVisible(async () => {
    try {
      render(box, await getJson('/api/host'));
    } catch (e) {
      fill(box, h('p', { class: 'error', role: 'alert' }, e.message));
    }
  }, REFRESH_MS);
}
