import { checkConfigKey, parseConfigPairs } from './operation-inputs.js';
import { InputErrors as E } from './input-errors.js';

/**
 * The text forms of an app's config vars: `config:set --encoded` (base64 values), `config:export`
 * (shell, json, envfile) and `config:import` (any of those three, detected). Parsing is strict: a
 * line that is not a KEY=VALUE of one of those forms refuses the whole input, so an import never
 * lands half-read. Every export form reads back to the same vars.
 */

export const EXPORT_FORMATS = ['shell', 'json', 'envfile'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** padded base64, as `base64` and `Buffer.toString('base64')` write it */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `K=BASE64` pairs -> decoded values (UTF-8 text); blanks inside the base64 (wrapped output of `base64`) are ignored. */
export function decodeEncodedPairs(args: string[]): Record<string, string> {
  const pairs = parseConfigPairs(args);
  const out: Record<string, string> = {};
  for (const [key, encoded] of Object.entries(pairs)) {
    const b64 = encoded.replace(/\s+/g, '');
    if (!BASE64.test(b64)) throw E.configEncoding(`the value of ${key} is not valid base64; nothing was changed`);
    try {
      out[key] = utf8.decode(Buffer.from(b64, 'base64'));
    } catch {
      throw E.configEncoding(`the value of ${key} does not decode to UTF-8 text; nothing was changed`);
    }
  }
  return out;
}

export function checkExportFormat(v: string | boolean | undefined): ExportFormat {
  if (v === undefined) return 'shell';
  if (typeof v === 'string' && (EXPORT_FORMATS as readonly string[]).includes(v)) return v as ExportFormat;
  throw E.configFormat(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${String(v)}'`);
}

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const DQ_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', $: '\\$', '`': '\\`' };
const doubleQuote = (v: string) => `"${v.replace(/[\\"\n\r\t$`]/g, (c) => DQ_ESCAPES[c]!)}"`;

/** The vars as text, sorted by key: `export K='v'` lines (shell), one JSON object, or `K="v"` lines (envfile). */
export function formatConfig(vars: Record<string, string>, format: ExportFormat): string {
  const keys = Object.keys(vars).sort();
  if (format === 'json') return `${JSON.stringify(Object.fromEntries(keys.map((k) => [k, vars[k]])), null, 2)}\n`;
  const line = format === 'shell' ? (k: string) => `export ${k}=${shellQuote(vars[k]!)}` : (k: string) => `${k}=${doubleQuote(vars[k]!)}`;
  return keys.map((k) => `${line(k)}\n`).join('');
}

/** Config vars from a JSON object (string, number or boolean values) or from shell/envfile lines; anything else throws. */
export function parseConfigText(text: string): Record<string, string> {
  if (text.includes('\0')) throw E.configImport('the input holds a NUL byte; nothing was changed');
  const vars = text.trimStart().startsWith('{') ? parseJsonVars(text) : parseEnvLines(text);
  if (Object.keys(vars).length === 0) throw E.configImport('the input holds no config vars; nothing was changed');
  return vars;
}

function parseJsonVars(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw E.configImport(`the input is not valid JSON (${(err as Error).message}); nothing was changed`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw E.configImport('JSON input must be one object of KEY: value; nothing was changed');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    checkConfigKey(k);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw E.configImport(`the value of ${k} must be a string, number or boolean; nothing was changed`);
    out[k] = String(v);
  }
  return out;
}

/** One value at `s[i]` onwards: 'single', "double" (backslash escapes), or bare to the end of the line; returns it and where it ended. */
function readValue(s: string, i: number, lineNo: number): { value: string; end: number } {
  let value = '';
  let quoted = false;
  while (i < s.length && s[i] !== '\n') {
    const c = s[i]!;
    if (c === "'") {
      const close = s.indexOf("'", i + 1);
      if (close < 0) throw E.configImport(`line ${lineNo}: a single quote is never closed; nothing was changed`);
      value += s.slice(i + 1, close);
      i = close + 1;
      quoted = true;
    } else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) {
          const n = s[i + 1]!;
          value += ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[n] ?? n;
          i += 2;
        } else value += s[i++];
      }
      if (i >= s.length) throw E.configImport(`line ${lineNo}: a double quote is never closed; nothing was changed`);
      i++;
      quoted = true;
    } else if (c === '\\' && s[i + 1] === "'" && quoted) {
      value += "'"; // the '\'' of shell quoting
      i += 2;
    } else if (/\s/.test(c)) {
      if (s.slice(i).match(/^[ \t]*(#.*)?(\r?\n|$)/)) return { value: quoted ? value : value.trimEnd(), end: s.indexOf('\n', i) };
      throw E.configImport(`line ${lineNo}: unexpected text after the value; quote values with blanks; nothing was changed`);
    } else {
      if (quoted) throw E.configImport(`line ${lineNo}: unexpected text after a quoted value; nothing was changed`);
      value += c;
      i++;
    }
  }
  return { value, end: i };
}

function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  let lineNo = 1;
  while (i < text.length) {
    const eol = text.indexOf('\n', i);
    const line = text.slice(i, eol < 0 ? text.length : eol);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = eol < 0 ? text.length : eol + 1;
      lineNo++;
      continue;
    }
    const m = /^[ \t]*(?:export[ \t]+)?([^=\s]*)=/.exec(line);
    if (!m) throw E.configImport(`line ${lineNo} is not KEY=VALUE; nothing was changed`);
    const key = m[1]!;
    checkConfigKey(key);
    const { value, end } = readValue(text, i + m[0].length, lineNo);
    out[key] = value;
    lineNo += text.slice(i, end < 0 ? text.length : end).split('\n').length - 1 + 1;
    i = end < 0 ? text.length : end + 1;
  }
  return out;
}
