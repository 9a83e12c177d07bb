import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium (test/ensure-test-packages.sh installs it); PAAS_CHROMIUM points elsewhere */
export const CHROMIUM = process.env.PAAS_CHROMIUM ?? '/usr/bin/chromium';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Screenshots land in the checkout the tests were started from (run-tests.mjs may run them from a mirror) */
export const ARTIFACTS = path.join(process.env.PAAS_TEST_MIRROR_OF ?? ROOT, 'test-artifacts', 'dashboard');

/**
 * The page sizes screenshots are taken at: a laptop and a phone's width (no isMobile: puppeteer
 * reloads the page when that changes, and the picture would show it loading)
 */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/**
 * Headless chromium driven by puppeteer-core: `hosts` resolve to 127.0.0.1 (the dashboard host
 * through paas's proxy), and the test CA's certificates are accepted.
 *
 * `http2: false` when Docker changes this host's interfaces during the test: chromium sees every
 * new container's veth as a network change and fails the requests of its HTTP/2 sessions with
 * net::ERR_NETWORK_CHANGED (a scale or a deploy through the page would fail for the browser being
 * on the Docker host, which a user's browser is not). HTTP/1.1 requests in flight are left alone.
 */
export async function launchChromium(hosts: string[] = [], opts: { http2?: boolean } = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (test/ensure-test-packages.sh does)`);
  const rules = hosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ');
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    acceptInsecureCerts: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-extensions',
      '--disable-background-networking',
      '--ignore-certificate-errors',
      ...(rules ? [`--host-resolver-rules=${rules}`] : []),
      ...(opts.http2 === false ? ['--disable-http2'] : []),
    ],
  });
}

/** What a page did that a test may want to see: errors, CSP violations, dialogs (dismissed) */
export interface PageWatch {
  errors: string[];
  csp: string[];
  /** "Failed to load resource" lines: a refused command's 403 is one, on purpose */
  network: string[];
  dialogs: string[];
}

/** Records console errors, uncaught exceptions, CSP refusals and dialogs of `page` (dialogs are dismissed). */
export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { errors: [], csp: [], network: [], dialogs: [] };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    (/Content Security Policy|Refused to/i.test(text) ? w.csp : /^Failed to load resource/.test(text) ? w.network : w.errors).push(text);
  });
  page.on('pageerror', (e) => w.errors.push(e instanceof Error ? e.message : String(e)));
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  return w;
}

/** Full-page screenshots of what `page` shows, at desktop and phone widths: `<name>-1280.png`, `<name>-390.png` */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const files: string[] = [];
  for (const [kind, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewport(viewport);
    // let the layout (and charts that follow their box) settle at the new width
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const file = path.join(ARTIFACTS, `${name}-${kind === 'desktop' ? VIEWPORTS.desktop.width : VIEWPORTS.phone.width}.png`);
    await page.screenshot({ path: file as `${string}.png`, fullPage: true });
    files.push(file);
  }
  await page.setViewport(VIEWPORTS.desktop);
  return files;
}

/** Whether the page is wider than its viewport (a phone would scroll sideways) */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}
