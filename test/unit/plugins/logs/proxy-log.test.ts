import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { PluginApi } from '../../../../src/plugin-host/plugin-api.js';
import type { AccessEntry } from '../../../../src/proxy/edge/request-figures.js';
import { accessLine, showProxyLog } from '../../../../plugins/logs/proxy-log.js';

const entry = (time: number, id: string, path = '/'): AccessEntry => ({
  time,
  app: 'shop',
  method: 'GET',
  path,
  status: 200,
  durationMs: 1.5,
  bytes: 120,
  client: '203.0.113.9',
  requestId: id,
});

test('a line holds time, method, path, status, duration, bytes, client and id; control characters in the path are escaped', () => {
  assert.equal(
    accessLine(entry(Date.UTC(2026, 0, 2, 3, 4, 5), 'r1', '/a\u001b[2Jb')),
    '2026-01-02T03:04:05.000Z GET /a\\u001b[2Jb 200 1.5ms 120B client=203.0.113.9 id=r1\n',
  );
});

test('following prints each entry once, even several in the same millisecond, and stops with the session', async () => {
  const log: AccessEntry[] = [entry(1000, 'a'), entry(1000, 'b')];
  const api = {
    metrics: { accessLog: async (_app: string, since: number, limit: number) => log.filter((e) => e.time > since).slice(-limit) },
  } as unknown as PluginApi;
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const ctl = new AbortController();
  const running = showProxyLog(api, 'shop', { lines: 10, follow: true }, out, ctl.signal);
  await new Promise((r) => setTimeout(r, 100));
  log.push(entry(1000, 'c'), entry(2000, 'd'));
  await new Promise((r) => setTimeout(r, 1200));
  ctl.abort();
  await running;
  assert.deepEqual(
    text
      .trim()
      .split('\n')
      .map((l) => l.slice(l.indexOf('id=') + 3)),
    ['a', 'b', 'c', 'd'],
  );
});
