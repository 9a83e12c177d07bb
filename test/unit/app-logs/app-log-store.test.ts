import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { AppLogStore, comparePositions } from '../../../src/app-logs/app-log-store.js';
import type { LogRecord } from '../../../src/app-logs/log-record.js';
import { DEFAULT_RETENTION, type LogRetention } from '../../../src/app-logs/log-retention.js';
import { silentLogger } from '../../../src/log/logger.js';

const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function store(retention: LogRetention = DEFAULT_RETENTION, now = Date.now) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-log-store-'));
  roots.push(root);
  return { root, s: new AppLogStore(root, () => retention, silentLogger(), now) };
}

const rec = (n: number, extra: Partial<LogRecord> = {}): LogRecord => ({
  t: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(3, '0')}Z`,
  c: 'abcdef012345',
  r: 1,
  p: 'web',
  i: 1,
  s: 'o',
  m: `line ${n}`,
  ...extra,
});
const texts = (rs: LogRecord[]) => rs.map((r) => r.m);

describe('AppLogStore', () => {
  test('appends JSON lines per app and reads the last N back in order, with filters', async () => {
    const { s, root } = store();
    s.append('a', [rec(1), rec(2, { p: 'worker' }), rec(3, { r: 2 })]);
    s.append('b', [rec(4)]);
    assert.deepEqual(texts(await s.read('a', { lines: 10 })), ['line 1', 'line 2', 'line 3']);
    assert.deepEqual(texts(await s.read('a', { lines: 2 })), ['line 2', 'line 3']);
    assert.deepEqual(texts(await s.read('a', { lines: 10, process: 'worker' })), ['line 2']);
    assert.deepEqual(texts(await s.read('a', { lines: 10, release: 2 })), ['line 3']);
    assert.deepEqual(texts(await s.read('b', { lines: 10 })), ['line 4']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'a')), ['000000000001.log']);
    const stats = s.stats('a');
    assert.equal(stats.segments, 1);
    assert.equal(stats.bytes, fs.statSync(path.join(root, 'a', '000000000001.log')).size);
  });

  test('a torn last line (a crash mid-write) is skipped on read, and the next write starts on a fresh line', async () => {
    const { s, root } = store();
    s.append('a', [rec(1)]);
    s.closeAll();
    fs.appendFileSync(
      path.join(root, 'a', '000000000001.log'),
      '{"t":"2026-01-01T00:00:02Z","c":"x","r":1,"p":"web","i":1,"s":"o","m":"tor',
    );
    assert.deepEqual(texts(await s.read('a', { lines: 10 })), ['line 1']);
    const fresh = new AppLogStore(root, () => DEFAULT_RETENTION, silentLogger());
    fresh.append('a', [rec(3)]);
    assert.deepEqual(texts(await fresh.read('a', { lines: 10 })), ['line 1', 'line 3']);
  });

  test('past a segment size a new segment starts; the oldest go once the app is over its size cap', async () => {
    const { s, root } = store({ maxBytes: 8 * 1024, maxAgeMs: DEFAULT_RETENTION.maxAgeMs });
    for (let n = 0; n < 200; n++) s.append('a', [rec(n, { m: `line ${n} ${'x'.repeat(60)}` })]);
    const segs = fs.readdirSync(path.join(root, 'a')).filter((f) => f.endsWith('.log'));
    assert.ok(segs.length >= 5 && segs.length <= 10, `segments: ${segs}`);
    assert.ok(!segs.includes('000000000001.log'), 'the first segment went');
    assert.ok(s.stats('a').bytes <= 8 * 1024 + 1024 + 200);
    const kept = await s.read('a', { lines: 1000 });
    assert.equal(kept.at(-1)!.m.startsWith('line 199 '), true);
    assert.ok(kept.length < 200 && kept.length > 50);
    // the cursors at the last rotation were saved beside the segments
    assert.ok(fs.existsSync(path.join(root, 'a', 'cursors.json')));
  });

  test('max age removes segments last written before the cutoff, never the one being written', async () => {
    let now = Date.now();
    const { s, root } = store({ maxBytes: 16 * 1024, maxAgeMs: 86_400_000 }, () => now);
    for (let n = 0; n < 60; n++) s.append('a', [rec(n, { m: 'y'.repeat(100) })]);
    const dir = path.join(root, 'a');
    const before = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort();
    assert.ok(before.length >= 3);
    assert.equal(s.enforce('a'), 0);
    now += 2 * 86_400_000;
    assert.equal(s.enforce('a'), before.length - 1);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.log')),
      [before.at(-1)],
    );
  });

  test('cursors: the saved ones, advanced through the newest segment, counting lines of the same time', () => {
    const { s, root } = store();
    s.append('a', [rec(1, { c: 'c1' }), rec(2, { c: 'c1' }), rec(2, { c: 'c1' }), rec(3, { c: 'c2' })]);
    fs.writeFileSync(path.join(root, 'a', 'cursors.json'), JSON.stringify({ c0: { t: '2025-01-01T00:00:00Z', n: 1 } }));
    const c = s.cursors('a');
    assert.deepEqual(Object.fromEntries(c), {
      c0: { t: '2025-01-01T00:00:00Z', n: 1 },
      c1: { t: rec(2).t, n: 2 },
      c2: { t: rec(3).t, n: 1 },
    });
  });

  test('a write that fails (the dir is gone or not writable) drops and counts its lines, and never throws', async () => {
    const { s, root } = store();
    fs.writeFileSync(path.join(root, 'a'), 'a file where the dir should be');
    s.append('a', [rec(1), rec(2)]);
    assert.equal(s.stats('a').dropped, 2);
    assert.deepEqual(await s.read('a', { lines: 10 }), []);
  });

  test('positions: later appends sit at or after the end read before them', () => {
    const { s } = store();
    const e0 = s.end('a');
    const at = s.append('a', [rec(1)]);
    assert.ok(comparePositions(at, e0) >= 0);
    const e1 = s.end('a');
    assert.ok(comparePositions(s.append('a', [rec(2)]), e1) >= 0);
    assert.ok(comparePositions(e1, at) > 0);
  });
});
