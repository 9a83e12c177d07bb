import { PROCESS_TYPE_RE } from '../runtime/container-naming.js';
import { InputErrors as E } from './input-errors.js';

/**
 * Parsers for the arguments of the day-to-day commands (config, scale, checks, domains).
 * Every parse error is a usage error (exit 2) raised before anything changes.
 */

export const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `K=V` pairs: split at the first `=`; the value may contain `=`, newlines, unicode, or be empty. */
export function parseConfigPairs(args: string[]): Record<string, string> {
  if (args.length === 0) throw E.configUsage('give at least one KEY=VALUE');
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i < 0) throw E.configMalformed(`'${printableKey(a)}' is not KEY=VALUE; nothing was changed`);
    const key = a.slice(0, i);
    checkConfigKey(key);
    out[key] = a.slice(i + 1);
  }
  return out;
}

export function checkConfigKey(key: string): string {
  if (!CONFIG_KEY.test(key)) {
    throw E.configKey(
      `invalid config key '${printableKey(key)}': use letters, digits and '_', not starting with a digit; nothing was changed`,
    );
  }
  return key;
}

/** Never echo a whole argument that might be a secret value: only its first few characters. */
function printableKey(s: string): string {
  const head = s.split(/[=\n]/)[0] ?? '';
  return head.length > 40 ? `${head.slice(0, 40)}…` : head;
}

/** `web=3 worker=0` -> { web: 3, worker: 0 }; process types and counts are checked against `known` and `max`. */
export function parseScaleArgs(args: string[], known: Set<string> | null, max: number): Record<string, number> {
  if (args.length === 0) throw E.scaleUsage('give at least one PROCESS=N, e.g. web=2');
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^([^=]*)=(.*)$/.exec(a);
    if (!m) throw E.scaleMalformed(`'${a}' is not PROCESS=N (e.g. web=2); nothing was changed`);
    const [, proc, n] = m;
    if (!PROCESS_TYPE_RE.test(proc!)) throw E.scaleProcess(`invalid process type '${proc}'; nothing was changed`);
    if (known && !known.has(proc!)) {
      throw E.scaleProcess(`unknown process type '${proc}' (known: ${[...known].sort().join(', ')}); nothing was changed`);
    }
    if (!/^\d{1,6}$/.test(n!)) throw E.scaleCount(`'${a}': the count must be a whole number from 0 to ${max}; nothing was changed`);
    const count = Number(n);
    if (count > max) {
      throw E.scaleMax(`'${a}': at most ${max} replicas per process type for this app (ps:set max-replicas); nothing was changed`);
    }
    out[proc!] = count;
  }
  return out;
}

export interface ChecksPatch {
  path?: string | null;
  timeout?: number;
  attempts?: number;
  wait?: number;
}

/** `path=/up timeout=5 attempts=3 wait=2`; `path=` (empty) or `path=none` means "port check only". */
export function parseChecksArgs(args: string[]): ChecksPatch {
  if (args.length === 0) throw E.checksUsage('give at least one of path=/up timeout=S attempts=N wait=S');
  const out: ChecksPatch = {};
  for (const a of args) {
    const i = a.indexOf('=');
    const key = i < 0 ? a : a.slice(0, i);
    const value = i < 0 ? '' : a.slice(i + 1);
    if (i < 0) throw E.checksMalformed(`'${a}' is not KEY=VALUE (path, timeout, attempts, wait)`);
    if (key === 'path') {
      if (value === '' || value === 'none') out.path = null;
      else if (/^\/[\x21-\x7e]*$/.test(value)) out.path = value;
      else throw E.checksPath(`path must start with '/' and contain no spaces (or be 'none'), got '${value}'`);
    } else if (key === 'timeout' || key === 'attempts' || key === 'wait') {
      const limits = { timeout: [1, 300], attempts: [1, 1000], wait: [0, 600] } as const;
      const [lo, hi] = limits[key];
      if (!/^\d+$/.test(value) || Number(value) < lo || Number(value) > hi) {
        throw E.checksValue(`${key} must be a whole number from ${lo} to ${hi}, got '${value}'`);
      }
      out[key] = Number(value);
    } else {
      throw E.checksKey(`unknown check setting '${key}' (use path, timeout, attempts, wait)`);
    }
  }
  return out;
}

/** A host name a user may route: lowercase labels of letters, digits and '-', at least two labels. */
export function normalizeDomain(input: string): string {
  const d = input.trim().toLowerCase().replace(/\.$/, '');
  const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
  const labels = d.split('.');
  if (d.length === 0 || d.length > 253 || labels.length < 2 || !labels.every((l) => label.test(l)) || /^\d+$/.test(labels.at(-1)!)) {
    throw E.domainInvalid(`'${input}' is not a valid domain name (e.g. www.example.com)`);
  }
  return d;
}

/** Joins `run` words into one /bin/sh -c string: a single word is taken as a shell line; otherwise words with blanks are quoted. */
export function joinRunCommand(words: string[]): string {
  if (words.length === 1) return words[0]!;
  return words.map((w) => (w === '' || /[\s'"]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
}

/** A `-n` style count flag: absent -> `dflt`; otherwise a whole number from `min` (default 0). */
export function parseCount(flag: string, v: string | boolean | undefined, dflt: number, min = 0): number {
  if (v === undefined || typeof v === 'boolean') return dflt;
  if (!/^\d{1,6}$/.test(v) || Number(v) < min) throw E.count(`${flag} takes a whole number${min ? ` from ${min}` : ''}, got '${v}'`);
  return Number(v);
}

/** `-n` value for logs: lines of history per container. */
export function parseLineCount(v: string | boolean | undefined, dflt = 100): number {
  return parseCount('-n', v, dflt);
}
