import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { DrainQueue } from '../../../src/app-logs/drain-queue.js';
import { isLocalDrainHost, parseDrainUrl } from '../../../src/app-logs/drain-url.js';
import { HttpDrain } from '../../../src/app-logs/http-drain.js';
import { LogDrains } from '../../../src/app-logs/log-drains.js';
import type { LogRecord } from '../../../src/app-logs/log-record.js';
import { SyslogDrain } from '../../../src/app-logs/syslog-drain.js';
import { octetFrame, syslogMessage } from '../../../src/app-logs/syslog-frame.js';
import { silentLogger } from '../../../src/log/logger.js';
import { waitFor } from '../../helpers/wait.js';

const rec = (m: string, s: 'o' | 'e' = 'o'): LogRecord => ({ t: '2026-01-02T03:04:05.123456789Z', c: 'c', r: 12, p: 'web', i: 2, s, m });
const opts = { capacity: 5, timeoutMs: 300, hostname: 'paas-host' };
const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});
async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

describe('syslog framing', () => {
  test('RFC 5424 with microseconds, app, process.replica and release; octet counting counts bytes', () => {
    assert.equal(
      syslogMessage('shop', 'paas-host', rec('GET / 200')),
      '<14>1 2026-01-02T03:04:05.123456Z paas-host shop web.2 v12 - GET / 200',
    );
    assert.match(syslogMessage('shop', 'a host', rec('boom', 'e')), /^<11>1 \S+ ahost shop web\.2 v12 - boom$/);
    assert.equal(octetFrame('é').toString(), '2 é');
  });
});

describe('DrainQueue', () => {
  test('holds up to its capacity and counts what it refuses', () => {
    const q = new DrainQueue(2);
    assert.equal(q.push(Buffer.from('a')), true);
    assert.equal(q.push(Buffer.from('b')), true);
    assert.equal(q.push(Buffer.from('c')), false);
    assert.equal(q.dropped, 1);
    assert.deepEqual(q.take(10, 100).map(String), ['a', 'b']);
    assert.equal(q.length, 0);
  });
});

describe('drain URLs', () => {
  test('syslog, syslog+tls, https and http are taken; anything else is refused with one line', () => {
    assert.deepEqual(parseDrainUrl('syslog+tls://logs.example.com:6514'), {
      kind: 'syslog+tls',
      host: 'logs.example.com',
      port: 6514,
      url: 'syslog+tls://logs.example.com:6514',
    });
    assert.equal(parseDrainUrl('https://logs.example.com/x').port, 443);
    assert.equal(parseDrainUrl('syslog://[::1]:514').host, '::1');
    for (const bad of ['ftp://x', 'not a url', 'syslog://host', 'syslog://host:514/path', 'https://'])
      assert.throws(() => parseDrainUrl(bad), { code: 'PAAS_ERR_LOGS_USAGE' }, bad);
  });

  test('local hosts: loopback, unspecified and link-local, in their IPv4, IPv6 and mapped forms', () => {
    for (const h of [
      'localhost',
      'a.localhost',
      '127.0.0.1',
      '127.8.9.10',
      '0.0.0.0',
      '169.254.169.254',
      '::1',
      '::',
      'fe80::1',
      '::ffff:127.0.0.1',
    ])
      assert.equal(isLocalDrainHost(h), true, h);
    for (const h of ['logs.example.com', '10.0.0.5', '192.168.1.2', '2001:db8::1', '128.0.0.1', 'localhost.example.com'])
      assert.equal(isLocalDrainHost(h), false, h);
  });
});

describe('SyslogDrain', () => {
  test('ships octet-counted messages over TCP', async () => {
    let got = '';
    const port = await listen(net.createServer((s) => s.on('data', (d) => (got += d))));
    const d = new SyslogDrain('shop', parseDrainUrl(`syslog://127.0.0.1:${port}`), opts, silentLogger());
    d.offer([rec('one'), rec('two')]);
    await waitFor('both messages', async () => got.includes('- two'));
    const first = syslogMessage('shop', 'paas-host', rec('one'));
    assert.ok(got.startsWith(`${Buffer.byteLength(first)} ${first}`));
    assert.equal(d.stats().sent, 2);
    d.close();
  });

  test('a receiver that never finishes the TLS handshake: lines past the buffer are dropped and counted, it retries', async () => {
    const held: net.Socket[] = [];
    const port = await listen(net.createServer((s) => held.push(s)));
    const d = new SyslogDrain('shop', parseDrainUrl(`syslog+tls://127.0.0.1:${port}`), opts, silentLogger());
    for (let n = 0; n < 8; n++) d.offer([rec(`line ${n}`)]);
    assert.deepEqual(
      { ...d.stats(), lastError: null },
      { url: `syslog+tls://127.0.0.1:${port}`, sent: 0, dropped: 3, queued: 5, lastError: null },
    );
    await waitFor('the connect timeout', async () => d.stats().lastError?.includes('no connection within 300 ms'));
    await waitFor('a second attempt', async () => held.length >= 2);
    d.close();
    for (const s of held) s.destroy();
  });
});

describe('HttpDrain', () => {
  test('POSTs logplex batches with Basic auth from the URL; a refusal or no answer drops the batch, counts it and backs off', async () => {
    const posts: Array<{ h: http.IncomingHttpHeaders; body: string }> = [];
    let answer: 'ok' | 'fail' | 'hang' = 'ok';
    const port = await listen(
      http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          posts.push({ h: req.headers, body });
          if (answer === 'ok') res.end();
          else if (answer === 'fail') res.writeHead(500).end();
        });
      }),
    );
    const d = new HttpDrain('shop', parseDrainUrl(`http://u:p%40ss@127.0.0.1:${port}/in`), opts, silentLogger());
    d.offer([rec('a'), rec('b')]);
    await waitFor('a post', async () => d.stats().sent === 2);
    assert.equal(posts[0]!.h['content-type'], 'application/logplex-1');
    assert.equal(posts[0]!.h['logplex-msg-count'], '2');
    assert.equal(posts[0]!.h.authorization, `Basic ${Buffer.from('u:p@ss').toString('base64')}`);
    assert.match(posts[0]!.body, /^\d+ <14>1 .* - a\d+ <14>1 .* - b$/);

    answer = 'fail';
    d.offer([rec('c')]);
    await waitFor('the refusal counted', async () => d.stats().dropped === 1);
    assert.equal(d.stats().lastError, 'the drain answered 500');

    answer = 'hang';
    // queued during the backoff, sent when it ends
    d.offer([rec('d')]);
    await waitFor('the unanswered batch counted', async () => d.stats().dropped === 2, 5000);
    assert.equal(d.stats().lastError, 'no answer within 300 ms');
    d.close();
  });
});

describe('LogDrains', () => {
  test('one drain per app, replaced when set again and removed with null; other apps ship nowhere', async () => {
    let got = '';
    const port = await listen(net.createServer((s) => s.on('data', (d) => (got += d))));
    const drains = new LogDrains(opts, silentLogger());
    drains.set('shop', `syslog://127.0.0.1:${port}`);
    drains.ship('shop', [rec('to the drain')]);
    drains.ship('blog', [rec('nowhere')]);
    await waitFor('the line', async () => got.includes('to the drain'));
    assert.equal(drains.stats('blog'), null);
    drains.set('shop', null);
    assert.equal(drains.stats('shop'), null);
    drains.closeAll();
    assert.doesNotMatch(got, /nowhere/);
  });
});
