// One app (/apps/<app>): a header with its state, then processes, releases, the live deploy log,
// config, domains, maintenance and pause, the live log tail and the charts. After every action
// the reads are done again, so the page shows what the command changed.
import { fill, h } from './dom.js';
import { configSection } from './app-config.js';
import { chartsSection } from './app-charts.js';
import { deployLogSection } from './app-deploy-log.js';
import { domainsSection } from './app-domains.js';
import { logsSection } from './app-logs.js';
import { processesSection } from './app-processes.js';
import { releasesSection } from './app-releases.js';
import { trafficSection } from './app-traffic.js';
import { whileVisible } from './live-stream.js';
import { appState } from './overview-page.js';

const REFRESH_MS = 15_000;

export function appPage(main, app) {
  document.title = `paas: ${app}`;
  const badge = h('span', { class: 'badge badge-muted', 'data-state': '' }, '…');
  const release = h('span', { class: 'muted', 'data-release': '' });
  const trafficBadge = h('span');
  const ctx = {
    app,
    refresh: () => Promise.all(readers.map((r) => r.load())),
    setReport(report) {
      const s = appState(report, null);
      badge.className = ['badge', s.bad ? 'badge-bad' : s.good ? 'badge-good' : 'badge-muted'].join(' ');
      badge.textContent = s.label;
      release.textContent = report.release ? `v${report.release}` : 'not deployed';
      logs.setTypes(Object.keys(report.formation));
    },
    setTraffic({ maintenance, paused }) {
      fill(
        trafficBadge,
        maintenance ? h('span', { class: 'badge badge-warn' }, 'maintenance') : null,
        paused ? h('span', { class: 'badge badge-warn' }, 'paused') : null,
      );
    },
  };
  const processes = processesSection(ctx);
  const releases = releasesSection(ctx);
  const deploy = deployLogSection(ctx);
  const config = configSection(ctx);
  const domains = domainsSection(ctx);
  const traffic = trafficSection(ctx);
  const logs = logsSection(ctx);
  const charts = chartsSection(ctx);
  const readers = [processes, releases, config, domains, traffic];
  const jump = [
    ['processes', 'Processes'],
    ['releases', 'Releases'],
    ['deploy', 'Deploy'],
    ['config', 'Config'],
    ['domains', 'Domains'],
    ['traffic', 'Traffic'],
    ['logs', 'Logs'],
    ['charts', 'Charts'],
  ];
  fill(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '/' }, 'Apps'), ' / '),
    h('h1', { class: 'app-title' }, h('span', { 'data-app-name': '' }, app), ' ', release, ' ', badge, ' ', trafficBadge),
    h(
      'nav',
      { class: 'jump', 'aria-label': 'sections' },
      jump.map(([id, label]) => h('a', { href: `#${id}` }, label)),
    ),
    h('div', { class: 'app-layout' }, processes.el, releases.el, deploy.el, config.el, domains.el, traffic.el, logs.el, charts.el),
  );
  // processes and the proxy state change outside the page too (other terminals): re-read them while visible
  whileVisible(() => Promise.all([processes.load(), traffic.load()]), REFRESH_MS);
  releases.load();
  config.load();
  domains.load();
  deploy.start();
  logs.start();
  charts.start();
}
