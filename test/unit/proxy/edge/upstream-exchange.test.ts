import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { type ExchangeOwner, UpstreamExchange } from '../../../../src/proxy/edge/upstream-exchange.js';
import { UPSTREAM_DEFAULTS, UpstreamPools } from '../../../../src/proxy/edge/upstream-pools.js';
import { Target } from '../../../../src/proxy/routing/target.js';

/** An upstream that answers every request with `reply` written raw, then does `then` to the connection. */
async function rawUpstream(reply: string, then: 'reset' | 'hang' | 'end', t: { after: (fn: () => void) => void }): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('data', () => {
      s.write(reply);
      if (then === 'reset') setTimeout(() => s.resetAndDestroy(), 20);
      else if (then === 'end') s.end();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A closed port: connecting is refused. */
async function closedPort(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `127.0.0.1:${port}`;
}

interface Failure {
  status: number;
  code: string | undefined;
}

/**
 * Proxies one GET through an UpstreamExchange to `address` (a real client, a real server) and
 * returns how the exchange failed (null: it did not) and what the client saw.
 */
async function exchange(address: string, t: { after: (fn: () => void) => void }): Promise<{ failure: Failure | null; client: string }> {
  const pools = new UpstreamPools({ ...UPSTREAM_DEFAULTS, headersTimeoutMs: 300 });
  let failure: Failure | null = null;
  let failed: () => void = () => {};
  const done = new Promise<void>((r) => (failed = r));
  const server = http.createServer((req, res) => {
    const target = new Target(address);
    const owner: ExchangeOwner = { target, exchange: null, connectFailed() {}, connected() {}, retarget: () => null };
    new UpstreamExchange(
      pools,
      req,
      res,
      { method: 'GET', path: '/', headers: ['Host', 'x'], body: null },
      owner,
      (status, _reason, err) => {
        failure = { status, code: (err as NodeJS.ErrnoException | undefined)?.code };
        if (status !== 0) res.writeHead(status).end();
        failed();
      },
    ).start(target);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
    void pools.close();
  });
  const client = await new Promise<string>((resolve) => {
    http
      .get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent: false }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(`status ${res.statusCode}, whole`));
        res.on('error', () => resolve(`status ${res.statusCode}, cut`));
      })
      .on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code}`));
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
  return { failure, client };
}

test('a refused connect fails before any response: 502 with the connect error', async (t) => {
  const r = await exchange(await closedPort(), t);
  assert.deepEqual(r.failure, { status: 502, code: 'ECONNREFUSED' });
  assert.equal(r.client, 'status 502, whole');
});

test('an upstream that never answers fails with 504 and a timeout', async (t) => {
  const r = await exchange(await rawUpstream('', 'hang', t), t);
  assert.deepEqual(r.failure, { status: 504, code: 'PAAS_TIMEOUT' });
});

const HALF = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf';
for (const [what, then, code] of [
  ['resets the connection', 'reset', 'ECONNRESET'],
  ['closes before the announced length', 'end', 'ECONNRESET'],
  ['goes quiet past the timeout', 'hang', 'PAAS_TIMEOUT'],
] as const) {
  test(`a response cut mid-body (the upstream ${what}) is told as status 0 with ${code}, and the client connection is cut`, async (t) => {
    const r = await exchange(await rawUpstream(HALF, then, t), t);
    assert.deepEqual(r.failure, { status: 0, code });
    assert.equal(r.client, 'status 200, cut');
  });
}

test('a whole response fails nothing', async (t) => {
  const r = await exchange(await rawUpstream('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nwhol', 'end', t), t);
  assert.equal(r.failure, null);
  assert.equal(r.client, 'status 200, whole');
});
