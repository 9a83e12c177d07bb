import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SseStream } from '../../../src/dashboard/sse-stream.js';

test('an output line can never end an event early or forge another; abort closes the stream', async () => {
  const ac = new AbortController();
  const server = http.createServer((_req, res) => {
    const s = new SseStream(res, { 'x-frame-options': 'DENY' }, ac.signal);
    s.send('line', 'a\revent: done\ndata: {"ok":true}\r\n\r\nb');
    setTimeout(() => ac.abort(), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  const text = await res.text();
  server.close();
  assert.equal(text, 'event: line\ndata: a\ndata: event: done\ndata: data: {"ok":true}\ndata: \ndata: b\n\n');
  assert.equal(text.match(/^event:/gm)?.length, 1);
});
