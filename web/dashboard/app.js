// The dashboard's entry: one static shell for every page, rendered from location.pathname once the
// session is known. Every figure comes from the same commands as over SSH (through /api/run) or
// the read-only /api endpoints; nothing is decided here that the server does not check again.
import { session } from './api.js';
import { fill, h } from './dom.js';

const APP_PATH = /^\/apps\/([a-z][a-z0-9-]{0,47})\/?$/;

async function main() {
  const root = document.getElementById('main');
  let s;
  try {
    s = await session();
  } catch (e) {
    fill(root, h('p', { class: 'error', role: 'alert' }, e.message));
    return;
  }
  fill(document.getElementById('who'), `${s.key} (${s.role})`);
  document.getElementById('nav-host').hidden = s.role !== 'admin';
  const path = location.pathname;
  const app = APP_PATH.exec(path);
  if (path === '/' || path === '') (await import('./overview-page.js')).overviewPage(root);
  else if (app) (await import('./app-page.js')).appPage(root, app[1]);
  else if (path === '/host' || path === '/host/') (await import('./host-page.js')).hostPage(root);
  else fill(root, h('h1', null, 'Not found'), h('p', null, 'No such page. ', h('a', { href: '/' }, 'All apps')));
}

main();
