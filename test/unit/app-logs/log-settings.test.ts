import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dockerSince, decodeRecord, encodeRecord, timeKey } from '../../../src/app-logs/log-record.js';
import {
  formatAge,
  formatSize,
  parseLogAge,
  parseLogSize,
  parseReleaseFilter,
  parseSince,
  segmentBytes,
} from '../../../src/app-logs/log-retention.js';
import { LogSettings } from '../../../src/app-logs/log-settings.js';

function rows() {
  const app = new Map<string, string>();
  const global = new Map<string, string>();
  return {
    app,
    global,
    rows: {
      app: {
        all: (a: string) => Object.fromEntries([...app].filter(([k]) => k.startsWith(`${a}/`)).map(([k, v]) => [k.slice(a.length + 1), v])),
        set: (a: string, k: string, v: string) => void app.set(`${a}/${k}`, v),
        unset: (a: string, k: string) => void app.delete(`${a}/${k}`),
      },
      global: { get: (k: string) => global.get(k), set: (k: string, v: string) => void global.set(k, v) },
    },
  };
}

describe('log sizes, ages and filters', () => {
  test('parse what users type and refuse the rest with the usage code', () => {
    assert.equal(parseLogSize('100m'), 100 * 1024 ** 2);
    assert.equal(parseLogSize('4k'), 4096);
    assert.equal(parseLogSize('1G'), 1024 ** 3);
    assert.equal(parseLogAge('7d'), 7 * 86_400_000);
    assert.equal(parseLogAge('2w'), 14 * 86_400_000);
    assert.equal(parseSince('2h'), 7_200_000);
    assert.equal(parseReleaseFilter('v12'), 12);
    assert.equal(parseReleaseFilter('3'), 3);
    for (const [f, v] of [
      [parseLogSize, 'abc'],
      [parseLogSize, '1k'],
      [parseLogSize, '200g'],
      [parseLogAge, '0s'],
      [parseLogAge, '7'],
      [parseSince, 'yesterday'],
      [parseReleaseFilter, 'latest'],
    ] as const)
      assert.throws(() => f(v), { code: 'PAAS_ERR_LOGS_USAGE' }, v);
    assert.deepEqual([formatSize(100 * 1024 ** 2), formatSize(4096), formatSize(1000)], ['100m', '4k', '1000']);
    assert.deepEqual([formatAge(7 * 86_400_000), formatAge(3_600_000), formatAge(90_000), formatAge(1500)], ['7d', '1h', '90s', '2s']);
    assert.deepEqual(
      [segmentBytes(100 * 1024 ** 2), segmentBytes(4096), segmentBytes(1024 ** 4)],
      [12.5 * 1024 ** 2, 1024, 16 * 1024 ** 2],
    );
  });
});

describe('log records', () => {
  test('round-trip as one JSON line; foreign or torn lines decode to null; times order and convert to Docker since', () => {
    const r = { t: '2026-01-01T00:00:01.5Z', c: 'abc', r: 2, p: 'web', i: 1, s: 'e' as const, m: 'a "quoted"\ttext' };
    const line = encodeRecord(r);
    assert.equal(line.endsWith('}\n'), true);
    assert.deepEqual(decodeRecord(line.trimEnd()), r);
    for (const bad of ['', '{"t":"x"', 'plain text', '{"t":1,"m":"x","p":"web","r":1,"i":1,"c":"c"}'])
      assert.equal(decodeRecord(bad), null);
    assert.ok(timeKey('2026-01-01T00:00:01.5Z') > timeKey('2026-01-01T00:00:01.49Z'));
    assert.ok(timeKey('2026-01-01T00:00:01Z') < timeKey('2026-01-01T00:00:01.000000001Z'));
    assert.equal(dockerSince('2026-01-01T00:00:01.5Z'), `${Date.parse('2026-01-01T00:00:01Z') / 1000}.500000000`);
  });
});

describe('LogSettings', () => {
  test('an app has the default caps until it or the host sets its own; a value left out goes back to the default', () => {
    const r = rows();
    let now = 0;
    const s = new LogSettings(r.rows, () => now);
    assert.deepEqual(s.of('a'), {
      retention: { maxBytes: 100 * 1024 ** 2, maxAgeMs: 7 * 86_400_000 },
      own: { maxSize: false, maxAge: false },
      drain: null,
    });
    assert.equal(s.setGlobal('max-size', '50m'), 50 * 1024 ** 2);
    assert.equal(s.setApp('a', 'max-age', '1d'), 86_400_000);
    assert.equal(s.setApp('a', 'drain', 'syslog://h:514'), 'syslog://h:514');
    assert.deepEqual(s.of('a'), {
      retention: { maxBytes: 50 * 1024 ** 2, maxAgeMs: 86_400_000 },
      own: { maxSize: false, maxAge: true },
      drain: 'syslog://h:514',
    });
    assert.equal(s.of('b').retention.maxAgeMs, 7 * 86_400_000);
    assert.equal(s.setApp('a', 'max-age', undefined), null);
    assert.equal(s.setApp('a', 'drain', 'off'), null);
    assert.equal(s.setGlobal('max-size', 'default'), null);
    assert.deepEqual(s.of('a').retention, { maxBytes: 100 * 1024 ** 2, maxAgeMs: 7 * 86_400_000 });
    assert.equal(r.app.size, 0, 'defaults are not stored');
    // a change made elsewhere (another process) shows within the cache's few seconds
    r.app.set('a/logs.max-size', String(8192));
    assert.equal(s.of('a').retention.maxBytes, 100 * 1024 ** 2);
    now += 6000;
    assert.equal(s.of('a').retention.maxBytes, 8192);
  });

  test('unknown settings and a global drain are refused', () => {
    const s = new LogSettings(rows().rows);
    assert.throws(() => s.setApp('a', 'colour', 'red'), {
      code: 'PAAS_ERR_LOGS_USAGE',
      message: /unknown logs setting 'colour' \(use max-size, max-age, drain\)/,
    });
    assert.throws(() => s.setGlobal('drain', 'https://x'), { message: /use max-size, max-age\)/ });
  });
});
