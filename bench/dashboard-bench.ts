/**
 * `npm run bench dashboard`: what the web dashboard costs.
 * - first page load of the apps overview and of one app's page in Debian's chromium (puppeteer-core),
 *   from navigation start to the load event and to the first data shown; cold (a fresh browser
 *   context: empty cache) and warm (a reload: cached assets revalidated by ETag); target < 300 ms;
 * - the bytes of a page's assets as sent (compressed) and unpacked; target < 200 KB compressed;
 * - the control plane's CPU over 60 s with the dashboard on but no page open, against the
 *   dashboard turned off (dashboard:set enabled off): they should be the same;
 * - the control plane's RSS with 10 app pages open (each with its live deploy and log streams and
 *   its polling), against none.
 * Runs one `paas server` (the built dist/) with one busybox app, over its proxy on the dashboard host.
 */
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { busyboxApp, commitFiles, healthAppJson, push } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { requireDocker } from '../test/helpers/docker.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { fmtStats, median, Results, rssMb, sleep, waitForQuiet } from './bench-stats.js';
import { cpuSeconds } from './idle-containers.js';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const RUNS = arg('runs', 15);
const CPU_SECONDS = arg('seconds', 60);
const PAGES = arg('pages', 10);
const SETTLE_SECONDS = arg('settle', 20);
const APP = 'bench';
const DASH_HOST = 'paas.paas.test';
const TARGET_MS = 300;
const TARGET_KB = 200;

interface Load {
  /** navigation start to the load event's end */
  load: number;
  /** navigation start to the page showing its first data */
  shown: number;
  /** bytes as sent (compressed) and unpacked, of every resource of the page (the document too) */
  sent: number;
  unpacked: number;
  files: number;
}

/** Where each page shows its first data */
const READY: Record<string, string> = {
  '/': `[data-app="${APP}"] [data-release]`,
  [`/apps/${APP}`]: '#processes [data-process="web"] [data-running]',
};

async function measure(page: Page, url: string, ready: string, reload: boolean): Promise<Load> {
  if (reload) await page.reload({ waitUntil: 'load' });
  else await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector(ready);
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const first = (window as unknown as { firstData?: number }).firstData;
    const all = [nav, ...res];
    return {
      load: nav.loadEventEnd - nav.startTime,
      shown: first === undefined ? Number.NaN : first - nav.startTime,
      // transferSize is 0 for a cache hit: a cold load's figure is what a first visit downloads
      sent: all.reduce((n, r) => n + (r.transferSize > 0 ? r.encodedBodySize : 0), 0),
      unpacked: all.reduce((n, r) => n + r.decodedBodySize, 0),
      files: all.length,
    };
  });
}

/** Marks when the ready element appears, from inside the page (so the figure is the page's own clock). */
async function markWhenShown(ctx: BrowserContext, ready: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  // a string, not a function: the bench runs through tsx, whose output a serialized function may not survive
  await page.evaluateOnNewDocument(`(() => {
    const sel = ${JSON.stringify(ready)};
    const seen = () => {
      if (!document.querySelector(sel)) return false;
      window.firstData = performance.now();
      return true;
    };
    new MutationObserver((_m, o) => { if (seen()) o.disconnect(); }).observe(document, { childList: true, subtree: true });
  })();`);
  return page;
}

async function cpuPercent(pid: number, seconds: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  return ((cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000)) * 100;
}

/** Median RSS of the control plane over `seconds`, sampled every second */
async function rssOver(pid: number, seconds: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < seconds; i++) {
    xs.push(rssMb(pid));
    await sleep(1000);
  }
  return median(xs);
}

async function main() {
  await requireDocker();
  await ensureBusyboxImage();
  const paas = await new PaasServer().start();
  let browser: Browser | null = null;
  try {
    const dir = path.join(paas.dataDir, 'work', APP);
    await commitFiles(dir, busyboxApp('bench', { 'app.json': healthAppJson() }));
    const pushed = await push(paas, dir, APP);
    if (pushed.exitCode !== 0) throw new Error(pushed.output);
    const pid = paas.pid;
    const res = new Results('dashboard', 'the web dashboard: page loads, asset bytes, control-plane CPU and memory');
    const load = await waitForQuiet('dashboard', 1.0, arg('quiet-wait', 120) * 1000);

    // CPU first, with no browser on the machine
    const idleOn = await cpuPercent(pid, CPU_SECONDS);
    const off = await paas.ssh('dashboard:set enabled off');
    if (off.exitCode !== 0) throw new Error(off.stderr);
    const idleOff = await cpuPercent(pid, CPU_SECONDS);
    await paas.ssh('dashboard:set enabled on');
    res.add({
      figure: 'control-plane CPU, dashboard on, no page open',
      paas: `${idleOn.toFixed(2)}% of a core`,
      reference: `dashboard off: ${idleOff.toFixed(2)}% of a core`,
      ratio: '',
      conditions: `${CPU_SECONDS} s each, one after the other; control-plane process CPU from /proc; one app (web=1); ${load}`,
    });
    const rssNone = await rssOver(pid, SETTLE_SECONDS);

    browser = await launchChromium([DASH_HOST]);
    const base = `https://${DASH_HOST}:${paas.ports.https}`;
    const link = (await paas.ssh('dashboard:login')).stdout.trim();
    const login = await browser.createBrowserContext();
    const first = await login.newPage();
    await first.goto(link, { waitUntil: 'load' });
    if (new URL(first.url()).pathname !== '/') throw new Error(`the login link landed on ${first.url()}`);

    for (const [p, ready] of Object.entries(READY)) {
      const cold: Load[] = [];
      const warm: Load[] = [];
      const page = await markWhenShown(login, ready);
      for (let i = 0; i < RUNS; i++) {
        // cold: no HTTP cache at all; warm: a reload of the page with its assets cached (revalidated by ETag)
        await page.setCacheEnabled(false);
        cold.push(await measure(page, `${base}${p}`, ready, false));
        await page.setCacheEnabled(true);
        await page.goto(`${base}${p}`, { waitUntil: 'load' });
        warm.push(await measure(page, `${base}${p}`, ready, true));
      }
      await page.close();
      const cond = `${RUNS} runs; Debian chromium headless over paas's HTTPS proxy on loopback; 1280x800`;
      const name = p === '/' ? 'the apps overview' : 'an app page';
      for (const [kind, loads] of [
        ['first load, cold (no cache)', cold],
        ['load, warm (reload, cached assets)', warm],
      ] as const) {
        const ms = (f: (l: Load) => number) => fmtStats(loads.map(f), 'ms', 0);
        res.add({
          figure: `${kind}: ${name}, navigation to load event`,
          paas: ms((l) => l.load),
          reference: `target < ${TARGET_MS} ms`,
          ratio: '',
          conditions: `${cond}; first data shown at ${ms((l) => l.shown)}`,
        });
      }
      const c = cold[cold.length - 1]!;
      res.add({
        figure: `bytes of ${name} and its assets, as sent`,
        paas: `${(c.sent / 1024).toFixed(1)} KB compressed`,
        reference: `target < ${TARGET_KB} KB`,
        ratio: '',
        conditions: `${c.files} files (page, modules, CSS${p === '/' ? '' : ', uPlot'}); ${(c.unpacked / 1024).toFixed(1)} KB unpacked; API answers included`,
      });
    }

    // 10 app pages open, each following the deploy and log streams and polling its reads
    const pages: Page[] = [];
    for (let i = 0; i < PAGES; i++) {
      const pg = await login.newPage({ type: 'window' });
      await pg.goto(`${base}/apps/${APP}`, { waitUntil: 'load' });
      await pg.waitForSelector('#deploy [data-deploy-status="idle"]');
      await pg.waitForFunction(() => document.querySelector('[data-logs-status]')?.textContent === 'following');
      pages.push(pg);
    }
    const c0 = cpuSeconds(pid);
    const t0 = Date.now();
    const rssOpen = await rssOver(pid, SETTLE_SECONDS);
    const cpuOpen = ((cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000)) * 100;
    for (const pg of pages) await pg.close();
    const rssAfter = await rssOver(pid, SETTLE_SECONDS);
    res.add({
      figure: `control-plane RSS with ${PAGES} app pages open`,
      paas: `${rssOpen.toFixed(0)} MiB`,
      reference: `no page open: ${rssNone.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after closing them`,
      ratio: `${rssOpen - rssNone >= 0 ? '+' : ''}${(rssOpen - rssNone).toFixed(1)} MiB`,
      conditions: `median of ${SETTLE_SECONDS} samples, 1 s apart; each page has 2 live SSE streams (deploy, logs -t) and re-reads every 15 s; CPU meanwhile ${cpuOpen.toFixed(2)}% of a core`,
    });
    res.write();
  } finally {
    await browser?.close();
    await paas.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
