import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { MetricsEndpoint } from '../../../src/metrics/metrics-endpoint.js';
import { silentLogger } from '../../../src/log/logger.js';
import { emptyAppFigures, emptyFigures } from '../../../src/proxy/edge/request-figures.js';

function get(opts: http.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ path: '/metrics', agent: false, ...opts }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function endpoint(proxyUp: boolean): MetricsEndpoint {
  const registry = new Registry();
  new Counter({ name: 'paas_test_total', help: 'a control-plane metric', registers: [registry] }).inc(3);
  const figures = emptyFigures();
  figures.apps.shop = emptyAppFigures();
  figures.apps.shop.requests[1] = 5;
  figures.workers = 2;
  return new MetricsEndpoint(
    registry,
    { figures: async () => (proxyUp ? figures : Promise.reject(new Error('proxy down'))) },
    async () => {},
    silentLogger(),
  );
}

test('serves the control plane registry and the proxy figures; moves between TCP, a unix socket and off', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-metrics-'));
  const e = endpoint(true);
  t.after(async () => {
    await e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await e.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  const port = e.port!;
  const r = await get({ host: '127.0.0.1', port });
  assert.equal(r.status, 200);
  assert.match(r.body, /^paas_test_total 3$/m);
  assert.match(r.body, /^paas_http_requests_total\{app="shop",method="GET",code="2xx"\} 5$/m);
  assert.match(r.body, /^paas_proxy_up 1$/m);
  assert.equal((await get({ host: '127.0.0.1', port, path: '/other' })).status, 404);
  // the same address again changes nothing
  await e.listen({ kind: 'tcp', host: '127.0.0.1', port });
  assert.equal(e.port, port);
  const sock = path.join(dir, 'm.sock');
  await e.listen({ kind: 'unix', path: sock });
  assert.match((await get({ socketPath: sock })).body, /paas_test_total 3/);
  await assert.rejects(get({ host: '127.0.0.1', port }), /ECONNREFUSED/);
  await e.listen({ kind: 'off' });
  assert.equal(fs.existsSync(sock), false);
});

test('a socket something listens on and a plain file are refused and left alone; the old listener stays', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-metrics-'));
  const other = net.createServer();
  const live = path.join(dir, 'live.sock');
  await new Promise<void>((r) => other.listen(live, r));
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'keep me');
  const e = endpoint(false);
  t.after(async () => {
    await e.close();
    other.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await e.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  await assert.rejects(e.listen({ kind: 'unix', path: live }), /cannot listen on .*live\.sock: EADDRINUSE/);
  await assert.rejects(e.listen({ kind: 'unix', path: file }), /cannot listen on .*file: EEXIST/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  assert.ok(fs.existsSync(live));
  const r = await get({ host: '127.0.0.1', port: e.port! });
  assert.match(r.body, /^paas_proxy_up 0$/m, 'without the proxy the control plane figures are still served');
  assert.match(r.body, /paas_test_total 3/);
  // a stale socket (bound by a process that is gone, nobody answers) is replaced
  const stale = path.join(dir, 'stale.sock');
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
  assert.ok(fs.lstatSync(stale).isSocket());
  await e.listen({ kind: 'unix', path: stale });
  assert.match((await get({ socketPath: stale })).body, /paas_test_total 3/);
});
