import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { ARTIFACTS, launchChromium, overflowsSideways, type PageWatch, screenshots, watchPage } from '../helpers/chromium.js';
import { requireDocker } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';

// The web dashboard as a user drives it: headless Debian chromium (puppeteer-core) against a real
// `paas server` (its proxy on the dashboard host, HTTPS with the default certificate), logged in
// through a link `dashboard:login` printed over real OpenSSH; pushes from a real git client;
// Docker for real. Screenshots of every page at 1280 and 390 px go to test-artifacts/dashboard/.

const APP = 'dash';
const DASH_HOST = 'paas.paas.test';
/** markup that would run script if the page ever parsed data as HTML */
const HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>';
/** the web process prints the hostile line at boot, so the log tail has it */
const appFiles = (marker: string) =>
  busyboxApp(marker, {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nRUN chmod +x /www/cgi-bin/env\nCMD echo 'boot ${HOSTILE}'; exec httpd -f -p $PORT -h /www\n`,
    'app.json': healthAppJson(),
  });

let paas: PaasServer;
let browser: Browser;
let page: Page;
let watch: PageWatch;
let dir: string;
let base: string;

async function loginLink(key?: string, where?: string): Promise<string> {
  const r = await paas.ssh(`dashboard:login${where ? ` ${where}` : ''}`, { key });
  assert.equal(r.exitCode, 0, r.stderr);
  const link = r.stdout.trim();
  assert.match(link, new RegExp(`^https://${DASH_HOST.replaceAll('.', '\\.')}:${paas.ports.https}/login/\\S+$`));
  return link;
}

/** The elements of the page a hostile string could have made */
function injected(p: Page): Promise<{ imgs: number; scripts: number; pwned: boolean }> {
  return p.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    scripts: document.querySelectorAll('script').length,
    pwned: 'pwned' in window,
  }));
}

const text = (p: Page, selector: string) => p.$eval(selector, (el) => el.textContent ?? '');

/** Waits until `selector`'s text is `want`; a timeout says what the page showed instead */
async function waitText(p: Page, selector: string, want: string, timeout = 30_000): Promise<void> {
  try {
    await p.waitForFunction((s, w) => document.querySelector(s)?.textContent === w, { timeout }, selector, want);
  } catch (e) {
    const got = await p.$eval(selector, (el) => el.textContent).catch(() => '(no such element)');
    const errors = await p.$$eval('.error', (els) => els.map((el) => el.textContent)).catch(() => []);
    throw new Error(
      `${selector} shows ${JSON.stringify(got)}, not ${JSON.stringify(want)}; errors on the page: ${JSON.stringify(errors)} (${e})`,
    );
  }
}

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, appFiles('first'));
  const [r, b] = await Promise.all([push(paas, dir, APP), launchChromium([DASH_HOST], { http2: false })]);
  browser = b;
  assert.equal(r.exitCode, 0, r.output);
  base = `https://${DASH_HOST}:${paas.ports.https}`;
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  watch = watchPage(page);
  console.log(`# dashboard screenshots: ${ARTIFACTS}`);
});

after(async () => {
  await browser?.close();
  await paas?.destroy();
});

test('a link from dashboard:login over SSH opens a session on the apps overview, which shows the app', async () => {
  const link = await loginLink();
  const res = await page.goto(link, { waitUntil: 'domcontentloaded' });
  assert.equal(new URL(page.url()).pathname, '/');
  assert.equal(res?.status(), 200);
  const cookie = (await browser.cookies()).find((c) => c.name === 'paas_session');
  assert.ok(cookie, 'the session cookie is set');
  assert.ok(cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict', JSON.stringify(cookie));
  await page.waitForSelector(`[data-app="${APP}"] [data-release]`);
  await waitText(page, `[data-app="${APP}"] [data-replicas]`, 'web 1/1');
  assert.equal(await text(page, `[data-app="${APP}"] [data-release]`), 'v1');
  assert.equal(await text(page, `[data-app="${APP}"] [data-state]`), 'running');
  assert.deepEqual(watch.csp, [], 'no CSP refusal on the overview');
  await screenshots(page, 'overview');
});

test('a login link works once: opened again it shows the expired page and no session', async () => {
  const link = await loginLink();
  const first = await browser.createBrowserContext();
  const again = await browser.createBrowserContext();
  try {
    const p1 = await first.newPage({ type: 'window' });
    await p1.goto(link);
    assert.equal(new URL(p1.url()).pathname, '/');
    const p2 = await again.newPage({ type: 'window' });
    const res = await p2.goto(link);
    assert.ok(res?.status() === 410 || res?.status() === 401, `status ${res?.status()}`);
    assert.match(await p2.$eval('body', (b) => b.textContent ?? ''), /This login link was used or has expired/);
    assert.equal((await again.cookies()).length, 0);
  } finally {
    await first.close();
    await again.close();
  }
});

test('scale from the app page: the button shows progress and the replicas change', async () => {
  await page.goto(`${base}/apps/${APP}`);
  const running = `#processes [data-process="web"] [data-running]`;
  await waitText(page, running, '1');
  const input = await page.$('#processes [data-process="web"] input');
  await input!.click();
  await page.keyboard.down('Control');
  await page.keyboard.press('a');
  await page.keyboard.up('Control');
  await input!.type('2');
  await page.click('#processes [data-process="web"] button');
  await page.waitForSelector('#processes [data-process="web"] button[aria-busy="true"]', { timeout: 5000 });
  await waitText(page, running, '2', 60_000);
  const r = await paas.ssh(`ps:report ${APP} --json`);
  assert.deepEqual(JSON.parse(r.stdout).formation, { web: 2 });
  await page.waitForSelector('#processes [data-process="web"] button:not([aria-busy])');
  await screenshots(page, 'app');
});

test('a git push started from a terminal streams its log into the open app page', async () => {
  await page.waitForSelector('#deploy [data-deploy-status="idle"]');
  await commitFiles(dir, appFiles('second'));
  const pushing = push(paas, dir, APP);
  await page.waitForSelector('#deploy [data-deploy-status="running"]', { timeout: 30_000 });
  await page.waitForSelector('#deploy .log-line');
  const r = await pushing;
  assert.equal(r.exitCode, 0, r.output);
  const release = /Building paas\/dash:(v\d+)/.exec(r.output)?.[1];
  assert.ok(release, r.output);
  await page.waitForSelector('#deploy [data-deploy-status="done"]', { timeout: 30_000 });
  assert.match(await text(page, '#deploy [data-deploy-status]'), new RegExp(`Deployed ${release}\\b`));
  const lines = await page.$$eval('#deploy .log-line', (els) => els.map((e) => e.textContent ?? ''));
  assert.ok(lines.length >= 3, lines.join('\n'));
  // the page's lines are the push's own output (git prefixes them with "remote: ")
  const stages = lines.filter((x) => x.trim().startsWith('----->'));
  assert.ok(stages.length >= 2, lines.join('\n'));
  for (const l of stages) assert.ok(r.output.includes(l.trim()), `'${l}' not in the push output`);
  await page.waitForFunction((v) => document.querySelector('#releases tbody tr')?.getAttribute('data-version') === v, {}, release);
});

test('a log line holding markup renders as text in the live log tail', async () => {
  await page.waitForFunction(
    (s) => [...document.querySelectorAll('#logs .log-line')].some((l) => l.textContent?.includes(s)),
    { timeout: 30_000 },
    HOSTILE,
  );
  assert.deepEqual(await injected(page), { imgs: 0, scripts: 1, pwned: false });
  assert.deepEqual(watch.dialogs, []);
});

test('the live streams close while the page is hidden and open again when it is shown', async () => {
  await page.bringToFront();
  await waitText(page, '[data-logs-status]', 'following');
  // another tab in front of it hides the page
  const other = await browser.newPage();
  try {
    await page.waitForFunction(() => document.visibilityState === 'hidden');
    await waitText(page, '[data-logs-status]', 'paused while the page is hidden');
  } finally {
    await other.close();
  }
  await page.bringToFront();
  await page.waitForFunction(() => document.visibilityState === 'visible');
  await waitText(page, '[data-logs-status]', 'following');
});

test('edit config from the page: set, masked until revealed; a hostile value is only text', async () => {
  await page.type('#config input[name="key"]', 'GREETING');
  await page.type('#config input[name="value"]', 'hello');
  await page.click('#config button[type="submit"]');
  await page.waitForSelector('#config [data-key="GREETING"]', { timeout: 60_000 });
  assert.equal(await text(page, '#config [data-key="GREETING"] [data-value]'), '••••••••');
  await page.click('#config [data-key="GREETING"] .actions button');
  assert.equal(await text(page, '#config [data-key="GREETING"] [data-value]'), 'hello');
  const got = await paas.ssh(`config:get ${APP} GREETING`);
  assert.equal(got.stdout.trim(), 'hello');

  // the form is free again once the change and the re-reads after it are done
  await page.waitForSelector('#config button[type="submit"]:not([disabled])');
  await page.type('#config input[name="key"]', 'EVIL');
  await page.type('#config input[name="value"]', HOSTILE);
  await page.click('#config input[name="no-restart"]');
  await page.click('#config button[type="submit"]');
  await page.waitForSelector('#config [data-key="EVIL"]', { timeout: 30_000 });
  await page.click('#config [data-key="EVIL"] .actions button');
  assert.equal(await text(page, '#config [data-key="EVIL"] [data-value]'), HOSTILE);
  assert.deepEqual(await injected(page), { imgs: 0, scripts: 1, pwned: false });
  assert.deepEqual(watch.dialogs, []);
  assert.deepEqual(watch.csp, [], 'no CSP refusal on the app page');
});

test('a refused action shows the CLI one line and changes nothing', async () => {
  await page.waitForSelector('#config button[type="submit"]:not([disabled])');
  await page.type('#config input[name="key"]', '1BAD');
  await page.type('#config input[name="value"]', 'x');
  await page.click('#config button[type="submit"]');
  await page.waitForSelector('#config .error[role="alert"]:not([hidden])', { timeout: 30_000 });
  const line = await text(page, '#config .error[role="alert"]');
  const cli = await paas.ssh(`config:set ${APP} 1BAD=x`);
  assert.notEqual(cli.exitCode, 0);
  assert.equal(line, cli.stderr.trim().split('\n')[0]);
  const all = JSON.parse((await paas.ssh(`config:show ${APP} --json`)).stdout);
  assert.equal(all['1BAD'], undefined);
});

test('roll back from the page to the first release: its image serves again', async () => {
  await page.reload();
  await page.waitForSelector('#releases [data-rollback="v1"]');
  const was = await page.$eval('#releases tbody tr', (tr) => tr.getAttribute('data-version'));
  await page.click('#releases [data-rollback="v1"]');
  assert.match(await text(page, '#releases [data-rollback="v1"]'), /Confirm/);
  await page.click('#releases [data-rollback="v1"]');
  await page.waitForSelector('#releases [data-rollback="v1"][aria-busy="true"]', { timeout: 5000 });
  await page.waitForFunction(
    (v) => {
      const tr = document.querySelector('#releases tbody tr');
      return tr?.getAttribute('data-version') !== v && tr?.classList.contains('live') && !document.querySelector('#releases [aria-busy]');
    },
    { timeout: 60_000 },
    was,
  );
  const newest = JSON.parse((await paas.ssh(`releases ${APP} --json`)).stdout)[0];
  assert.equal(newest.status, 'live');
  assert.equal(await page.$eval('#releases tbody tr', (tr) => tr.getAttribute('data-version')), `v${newest.version}`);
  assert.equal((await viaProxy(paas, `${APP}.paas.test`)).body.trim(), 'first');
});

test('the host page (admin) and every page at phone width without sideways scrolling', async () => {
  await page.goto(`${base}/host`);
  await page.waitForSelector('#resources meter');
  await page.waitForSelector('[data-build-queue]');
  await screenshots(page, 'host');
  await page.setViewport({ width: 390, height: 844, isMobile: true });
  for (const p of ['/', `/apps/${APP}`, '/host']) {
    await page.goto(`${base}${p}`);
    await page.waitForSelector('#main h1');
    await page.waitForFunction(() => !document.querySelector('#main .loading'));
    assert.equal(await overflowsSideways(page), false, `${p} scrolls sideways at 390 px`);
  }
  await page.setViewport({ width: 1280, height: 800 });
  const pageOf = await browser.newPage({ type: 'window' });
  await pageOf.goto(`${base}/login-needed`);
  await screenshots(pageOf, 'login-needed');
  await pageOf.close();
  assert.deepEqual(watch.csp, []);
  assert.deepEqual(watch.errors, []);
});

test('a developer key sees only its own apps in the dashboard', async () => {
  assert.equal((await paas.ssh('apps:create other')).exitCode, 0);
  const dev = await paas.addDeveloper('dev', ['other']);
  const ctx = await browser.createBrowserContext();
  try {
    const p = await ctx.newPage({ type: 'window' });
    await p.goto(await loginLink(dev.priv));
    await p.waitForSelector('#apps');
    await p.waitForSelector('[data-app="other"]');
    assert.equal(await p.$(`[data-app="${APP}"]`), null);
    assert.equal(await p.$eval('#nav-host', (a) => (a as HTMLElement).hidden), true);
    // the page of another app is refused with the CLI's words, before any script runs
    const res = await p.goto(`${base}/apps/${APP}`);
    assert.equal(res?.status(), 403);
    assert.match(await p.$eval('body', (b) => b.textContent ?? ''), new RegExp(`key 'dev' has no access to app '${APP}'`));
    assert.equal((await p.goto(`${base}/host`))?.status(), 403);
  } finally {
    await ctx.close();
  }
});

test('the dashboard cannot be framed by another origin', async () => {
  const framer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><iframe id="f" src="${base}/" onload="document.title='loaded'"></iframe>`);
  });
  await new Promise<void>((r) => framer.listen(0, '127.0.0.1', r));
  const p = await browser.newPage({ type: 'window' });
  const w = watchPage(p);
  try {
    await p.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`);
    await p.waitForFunction(() => document.title === 'loaded', { timeout: 15_000 });
    const child = p.frames().find((f) => f !== p.mainFrame());
    assert.ok(child, 'the iframe exists');
    const shown = await child.evaluate(() => document.getElementById('main') !== null).catch(() => false);
    assert.equal(shown, false, 'the dashboard rendered inside a frame');
    assert.ok(
      w.csp.some((m) => /frame-ancestors|X-Frame-Options/i.test(m)),
      `chromium says why it refused: ${JSON.stringify(w)}`,
    );
  } finally {
    await p.close();
    framer.close();
  }
});
