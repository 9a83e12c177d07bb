// Every error code is declared once, in an area's `*-errors.ts` catalog built with errorFactory,
// and the table of codes in docs/errors.md lists exactly those codes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CODE = /^PAAS_ERR_[A-Z0-9_]+$/;
/** A code written as a string literal anywhere in the sources. */
const CODE_LITERAL = /(['"`])(PAAS_ERR_[A-Za-z0-9_]*)\1/g;
/** The one file allowed to construct an AppError: errorFactory's own module. */
const APP_ERROR_FILE = 'src/errors/app-error.ts';

interface Entry {
  code: string;
  /** `src/git/git-errors.ts GitErrors.noRepo` */
  where: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join('/');
const sources = [...sourceFiles(path.join(ROOT, 'src')), ...sourceFiles(path.join(ROOT, 'plugins'))];
const catalogFiles = sourceFiles(path.join(ROOT, 'src')).filter((f) => f.endsWith('-errors.ts'));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * The errorFactory entries reachable from a module's exports: functions with a string `code`, in
 * exported objects and objects nested in them (a catalog may keep its factories under `codes`
 * beside message-building helpers). One factory reached twice counts once.
 */
function collectEntries(file: string, mod: Record<string, unknown>, into: Map<unknown, Entry>): void {
  const seen = new Set<unknown>();
  const visit = (value: unknown, where: string) => {
    if (typeof value === 'function') {
      const code = (value as { code?: unknown }).code;
      if (typeof code === 'string' && !into.has(value)) into.set(value, { code, where });
      return;
    }
    if (!isPlainObject(value) || seen.has(value)) return;
    seen.add(value);
    for (const [key, v] of Object.entries(value)) visit(v, `${where}.${key}`);
  };
  for (const [name, value] of Object.entries(mod)) visit(value, `${rel(file)} ${name}`);
}

describe('error catalogs', () => {
  const entries: Entry[] = [];
  /** catalog files that cannot be imported or declare no errorFactory entry */
  const problems: string[] = [];

  before(async () => {
    const found = new Map<unknown, Entry>();
    for (const file of catalogFiles) {
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      } catch (err) {
        problems.push(`${rel(file)}: cannot be imported (${(err as Error).message})`);
        continue;
      }
      const count = found.size;
      collectEntries(file, mod, found);
      if (found.size === count) problems.push(`${rel(file)}: exports no errorFactory entry (a *-errors.ts file is a catalog)`);
    }
    entries.push(...found.values());
  });

  test('every *-errors.ts file imports and declares errorFactory entries', () => {
    assert.ok(catalogFiles.length > 0, 'no src/**/*-errors.ts found');
    assert.deepEqual(problems, [], `catalog files with problems:\n  ${problems.join('\n  ')}`);
  });

  test('every code reads PAAS_ERR_<AREA>_<WHAT>', () => {
    const bad = entries.filter((e) => !CODE.test(e.code)).map((e) => `${e.where}: '${e.code}'`);
    assert.deepEqual(bad, [], `codes not matching ${CODE}:\n  ${bad.join('\n  ')}`);
  });

  test('no code is declared by two entries, in one catalog or across catalogs', () => {
    const byCode = new Map<string, string[]>();
    for (const e of entries) byCode.set(e.code, [...(byCode.get(e.code) ?? []), e.where]);
    const dups = [...byCode].filter(([, where]) => where.length > 1).map(([code, where]) => `${code}: ${where.join(', ')}`);
    assert.deepEqual(dups, [], `codes declared more than once:\n  ${dups.join('\n  ')}`);
  });

  test('no file but the AppError module constructs an AppError inline', () => {
    const offenders = sources.filter((f) => rel(f) !== APP_ERROR_FILE && fs.readFileSync(f, 'utf8').includes('new AppError(')).map(rel);
    assert.deepEqual(offenders, [], `files with new AppError( (declare the code in the area's *-errors.ts):\n  ${offenders.join('\n  ')}`);
  });

  test('every PAAS_ERR_ string literal in src/ and plugins/ is a catalog code', () => {
    const codes = new Set(entries.map((e) => e.code));
    const unknown: string[] = [];
    for (const f of sources) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(CODE_LITERAL)) if (!codes.has(m[2])) unknown.push(`${rel(f)}: ${m[2]}`);
    }
    assert.deepEqual(unknown, [], `codes written as literals but declared in no catalog:\n  ${unknown.join('\n  ')}`);
  });

  test('the table of error codes in docs/errors.md lists exactly the catalog codes', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
    const documented = new Set<string>();
    for (const line of readme.split('\n')) {
      const m = /^\|\s*`(PAAS_ERR_[A-Za-z0-9_]*)`/.exec(line);
      if (m) documented.add(m[1]);
    }
    const codes = new Set(entries.map((e) => e.code));
    const missing = [...codes].filter((c) => !documented.has(c)).sort();
    const extra = [...documented].filter((c) => !codes.has(c)).sort();
    const none = documented.size === 0 ? 'docs/errors.md has no table rows starting "| `PAAS_ERR_…"\n  ' : '';
    assert.deepEqual(
      { missing, extra },
      { missing: [], extra: [] },
      `docs/errors.md's table differs from the catalogs:\n  ${none}missing from docs/errors.md: ${missing.join(', ') || 'none'}\n  in docs/errors.md but in no catalog: ${extra.join(', ') || 'none'}`,
    );
  });
});
