/**
 * Helpers shared by the benchmark scripts: statistics, a bounded wait for a quiet machine, a
 * single-shot HTTP probe (both sides of a comparison poll the same way), and the result table
 * that every bench prints and writes to bench/results/<name>.md for `npm run bench readme`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const HERE = import.meta.dirname;
export const RESULTS_DIR = path.join(HERE, 'results');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function stats(xs: number[]): Stats {
  if (xs.length === 0) return { n: 0, min: Number.NaN, median: Number.NaN, max: Number.NaN };
  return { n: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/** `median (min–max)` of `xs` divided by `div`, with `digits` decimals and `unit`. */
export function fmtStats(xs: number[], unit: string, digits = 2, div = 1): string {
  const s = stats(xs);
  const f = (x: number) => (x / div).toFixed(digits);
  return `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)})`;
}

/** `1 run`, `5 runs`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function ratio(paas: number, ref: number): string {
  return Number.isFinite(paas / ref) ? `${(paas / ref).toFixed(2)}x` : '-';
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** RSS of a process and all its descendants (nginx's or the proxy's workers), in KiB. */
export function treeRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  let kb = m ? Number(m[1]) : 0;
  let kids: string[] = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    // pgrep exits 1 when there are no children
  }
  for (const k of kids) kb += treeRssKb(Number(k));
  return kb;
}

/** Runs `a` and `b` in the order given by the run index: even runs a first, odd runs b first. */
export async function alternating<T>(i: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T, T]> {
  if (i % 2 === 0) {
    const ra = await a();
    return [ra, await b()];
  }
  const rb = await b();
  return [await a(), rb];
}

/**
 * Waits (at most `maxMs`) for the 1-minute load average to drop below `below`, because this
 * 2-core machine is shared with other test runs. Returns the load average the section starts
 * under, as text for the conditions column, and prints it.
 */
export async function waitForQuiet(section: string, below = 1.0, maxMs = 180_000): Promise<string> {
  const t0 = Date.now();
  let load = os.loadavg()[0];
  if (load >= below)
    console.log(
      `# ${section}: waiting up to ${Math.round(maxMs / 1000)} s for the 1-min load average (${load.toFixed(2)}) to drop below ${below}`,
    );
  while (load >= below && Date.now() - t0 < maxMs) {
    await sleep(5000);
    load = os.loadavg()[0];
  }
  const waited = Math.round((Date.now() - t0) / 1000);
  const note = load < below ? '' : ` — still >= ${below} after ${Math.round(maxMs / 1000)} s, measured anyway`;
  const text = `load ${load.toFixed(2)}`;
  console.log(`# ${section}: 1-min load average ${load.toFixed(2)} at start (waited ${waited} s)${note}`);
  return load < below ? text : `${text} (busy)`;
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** One GET with a short timeout (no retry inside): null when nothing answered. */
export function probe(url: string, opts: { host?: string; timeoutMs?: number } = {}): Promise<ProbeResult | null> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: opts.host ? { host: opts.host } : {}, timeout: opts.timeoutMs ?? 1000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}

/** Polls `fn` every `every` ms (the same on both sides of every comparison) until it is truthy; throws after `ms`. */
export async function pollUntil(what: string, fn: () => Promise<boolean>, ms = 60_000, every = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export interface Row {
  figure: string;
  paas: string;
  reference: string;
  ratio: string;
  conditions: string;
}

/** The newest modification time (ms) of a .ts file under `dir`. */
function newestTs(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/** The commit checked out and when dist/ (what the benches run) was built, and whether src/ changed since. */
function buildInfo(): string {
  const root = path.join(HERE, '..');
  let sha = 'unknown';
  try {
    sha = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {}
  const main = path.join(root, 'dist', 'src', 'main.js');
  if (!fs.existsSync(main)) return `commit ${sha}`;
  const built = fs.statSync(main).mtimeMs;
  const when = new Date(built).toISOString().replace(/\.\d+Z$/, 'Z');
  const newer = Math.max(newestTs(path.join(root, 'src')), newestTs(path.join(root, 'plugins'))) > built;
  return `HEAD ${sha}, dist/ built ${when}${newer ? ' (src/ or plugins/ edited since)' : ''}`;
}

/**
 * The figures of one bench: printed as a markdown table and written to
 * bench/results/<name>.md (overwritten each run) with the date and the machine.
 */
export class Results {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  constructor(
    readonly name: string,
    readonly title: string,
  ) {}

  add(row: Row): void {
    this.rows.push(row);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  markdown(): string {
    const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const lines = [
      `### \`npm run bench ${this.name}\`: ${this.title}`,
      '',
      `Run ${when} on ${os.hostname()} (${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
        `node ${process.version}, ${buildInfo()}). Figures are median (min–max) of the runs named in the conditions.`,
      '',
      '| figure | paas | reference | ratio | conditions |',
      '|---|---|---|---|---|',
      ...this.rows.map((r) => `| ${esc(r.figure)} | ${esc(r.paas)} | ${esc(r.reference)} | ${esc(r.ratio)} | ${esc(r.conditions)} |`),
    ];
    if (this.notes.length) lines.push('', ...this.notes.map((n) => `- ${n}`));
    return `${lines.join('\n')}\n`;
  }

  /** Prints the table and writes bench/results/<name>.md. */
  write(): void {
    const md = this.markdown();
    console.log(`\n${md}`);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${this.name}.md`);
    fs.writeFileSync(`${file}.tmp`, md);
    fs.renameSync(`${file}.tmp`, file);
    console.log(`(written to ${path.relative(process.cwd(), file)})`);
  }
}
