// The apps overview (/): each app's state, live release, replicas per type and the last hour's
// req/s, p95, 5xx and memory. A failed deploy or a crashing process is flagged in red.
import { getJson, read } from './api.js';
import { bytes, errorBox, errorLine, fill, h, num, secs } from './dom.js';
import { whileVisible } from './live-stream.js';
import { last, sparkline } from './sparkline.js';

const REFRESH_MS = 30_000;
const CRASHING = new Set(['restarting', 'exited', 'dead']);

/** What the overview says about one app: its state, and whether it needs attention */
export function appState(report, newest) {
  if (!report) return { label: 'unknown', bad: false };
  if (newest?.status === 'failed') return { label: `deploy v${newest.version} failed`, bad: true };
  const crashing = (report.containers ?? []).filter((c) => !c.oneOff && (CRASHING.has(c.state) || c.restarts > 0));
  if (crashing.length) {
    const restarts = crashing.reduce((n, c) => n + (c.restarts ?? 0), 0);
    return { label: `crashing (${crashing.length} container${crashing.length > 1 ? 's' : ''}, ${restarts} restarts)`, bad: true };
  }
  if (report.release === null) return { label: 'not deployed', bad: false };
  if (report.stopped) return { label: 'stopped', bad: false };
  return { label: 'running', bad: false, good: true };
}

/**
 * apps:info read as the report the overview needs: it lists containers without their CPU and
 * memory (ps:report's per-container stats take Docker a second or two), so the page shows at once.
 * Containers of no formation type are one-off runs.
 */
export function fromInfo(info) {
  const formation = info.formation ?? {};
  const containers = (info.containers ?? []).map((c) => ({
    process: c.process,
    state: c.state,
    restarts: c.restartCount ?? 0,
    oneOff: !(c.process in formation),
  }));
  const wanted = Object.values(formation).some((n) => n > 0);
  return { release: info.release, formation, containers, stopped: info.release !== null && wanted && containers.every((c) => c.oneOff) };
}

/** "web 2/2 · worker 1/1": wanted replicas per type, and how many run */
export function replicas(report) {
  const running = {};
  for (const c of report?.containers ?? []) if (!c.oneOff && c.state === 'running') running[c.process] = (running[c.process] ?? 0) + 1;
  const types = Object.entries(report?.formation ?? {});
  if (types.length === 0) return '–';
  return types.map(([p, n]) => `${p} ${running[p] ?? 0}/${n}`).join(' · ');
}

function metric(label, values, text, kind) {
  return h(
    'div',
    { class: 'metric' },
    h('span', { class: 'metric-label' }, label),
    sparkline(values, `${label} over the last hour`, kind),
    h('span', { class: 'metric-value' }, text),
  );
}

function card(name, report, newest, m) {
  const state = appState(report, newest);
  const mem = m?.memory ?? [];
  return h(
    'article',
    { class: ['app-card', state.bad && 'bad'], 'data-app': name },
    h(
      'header',
      { class: 'app-card-head' },
      h('a', { class: 'app-name', href: `/apps/${encodeURIComponent(name)}` }, name),
      h('span', { class: ['badge', state.bad ? 'badge-bad' : state.good ? 'badge-good' : 'badge-muted'], 'data-state': '' }, state.label),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'release'),
      h('dd', { 'data-release': '' }, report?.release ? `v${report.release}` : '–'),
      h('dt', null, 'replicas'),
      h('dd', { 'data-replicas': '' }, replicas(report)),
    ),
    h(
      'div',
      { class: 'metrics' },
      metric('req/s', m?.rps, num(last(m?.rps), 2), 'rps'),
      metric('p95', m?.p95, secs(last(m?.p95)), 'p95'),
      metric('5xx', m?.err5xx, num(last(m?.err5xx), 0), 'err'),
      metric('memory', mem, bytes(last(mem)), 'mem'),
    ),
  );
}

async function load(list, err) {
  let apps;
  try {
    apps = await read(['apps:list']);
  } catch (e) {
    errorLine(err, e.message);
    return;
  }
  const metrics = await getJson('/api/metrics?range=1h').catch(() => null);
  if (apps.length === 0) {
    fill(list, h('p', { class: 'muted' }, 'No apps yet. Push one: git push paas main'));
    errorLine(err, '');
    return;
  }
  const cards = await Promise.all(
    apps.map(async (a) => {
      const [info, releases] = await Promise.all([
        read(['apps:info', a.name]).catch(() => null),
        read(['releases', a.name, '-n', '1']).catch(() => []),
      ]);
      const report = info && fromInfo(info);
      return card(a.name, report, releases[0], metrics?.apps?.[a.name]);
    }),
  );
  // the bad ones first: they are what an operator opens the page for
  cards.sort((x, y) => Number(y.classList.contains('bad')) - Number(x.classList.contains('bad')));
  fill(list, cards);
  errorLine(err, '');
}

export function overviewPage(main) {
  const err = errorBox();
  const list = h(
    'div',
    { class: 'app-grid', id: 'apps' },
    h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading apps…'),
  );
  fill(main, h('h1', null, 'Apps'), err, list);
  document.title = 'paas: apps';
  return whileVisible(() => load(list, err), REFRESH_MS);
}
