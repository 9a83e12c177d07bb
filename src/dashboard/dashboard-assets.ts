import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** What the dashboard serves besides /assets: the page shell and the two static pages. */
export interface DashboardPages {
  shell: string;
  loginNeeded: string;
  linkExpired: string;
}

const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.svg', '.json', '.txt', '.map']);

const page = (title: string, text: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><link rel="stylesheet" href="/assets/style.css"></head><body class="static"><main class="main"><p id="message">${text}</p></main></body></html>\n`;

const FALLBACK: DashboardPages = {
  shell: page('paas', 'The dashboard pages are not installed.'),
  loginNeeded: page('paas: log in', 'Not logged in: run <code>paas dashboard:login</code> over SSH and open the link it prints'),
  linkExpired: page('paas: link expired', 'This login link was used or has expired: run <code>paas dashboard:login</code> again'),
};

/**
 * Copies the dashboard's files (web/dashboard) and uPlot's (node_modules/uplot/dist, as vendor/)
 * into `cacheDir` with a gzip and a brotli copy of each text file beside it, made once at start
 * (so @fastify/static serves them precompressed and no request compresses), and reads the pages.
 */
export function prepareAssets(
  webDir: string,
  vendorDir: string,
  cacheDir: string,
): { pages: DashboardPages; bytes: number; compressedBytes: number } {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(cacheDir, 'vendor'), { recursive: true, mode: 0o755 });
  let bytes = 0;
  let compressedBytes = 0;
  const copy = (from: string, to: string) => {
    const body = fs.readFileSync(from);
    fs.writeFileSync(to, body);
    bytes += body.length;
    if (!COMPRESSIBLE.has(path.extname(from))) {
      compressedBytes += body.length;
      return;
    }
    const br = zlib.brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
    fs.writeFileSync(`${to}.br`, br);
    fs.writeFileSync(`${to}.gz`, zlib.gzipSync(body, { level: 9 }));
    compressedBytes += br.length;
  };
  const walk = (dir: string, into: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const from = path.join(dir, e.name);
      const to = path.join(into, e.name);
      if (e.isDirectory()) {
        fs.mkdirSync(to, { recursive: true });
        walk(from, to);
      } else if (e.isFile()) copy(from, to);
    }
  };
  walk(webDir, cacheDir);
  for (const f of ['uPlot.esm.js', 'uPlot.min.css']) {
    const from = path.join(vendorDir, f);
    if (fs.existsSync(from)) copy(from, path.join(cacheDir, 'vendor', f));
  }
  const read = (name: string, fallback: string) => {
    const file = path.join(webDir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : fallback;
  };
  return {
    pages: {
      shell: read('index.html', FALLBACK.shell),
      loginNeeded: read('login-needed.html', FALLBACK.loginNeeded),
      linkExpired: read('link-expired.html', FALLBACK.linkExpired),
    },
    bytes,
    compressedBytes,
  };
}
