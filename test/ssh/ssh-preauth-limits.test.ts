// Limits before login, against a real SshServer on loopback: key attempts per connection,
// unauthenticated connections per address, and the bounded failed-auth table.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import ssh2 from 'ssh2';
import { silentLogger } from '../../src/log/logger.js';
import { AuthLimiter } from '../../src/ssh/auth-limiter.js';
import { ensureHostKey } from '../../src/ssh/host-key.js';
import { parsePublicKey } from '../../src/ssh/public-key.js';
import { type SshLimits, SshServer } from '../../src/ssh/ssh-server.js';
import { State } from '../../src/state/state.js';
import { makeKey, sshOptions } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';
import { generateEd25519Pair } from '../../src/ssh/ed25519-pair.js';

async function server(limits: Partial<SshLimits>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-preauth-'));
  const state = State.open(path.join(dir, 'paas.db'));
  const key = await makeKey(dir, 'alice');
  const pub = parsePublicKey(fs.readFileSync(key.pub, 'utf8'));
  state.keys.add('alice', pub.fingerprint, pub.canonical);
  let lookups = 0;
  const srv = new SshServer({
    hostKey: await ensureHostKey(path.join(dir, 'host')),
    findKey: (fp) => {
      lookups++;
      return state.keys.byFingerprint(fp);
    },
    identify: (fp) => {
      const k = state.keys.byFingerprint(fp);
      return k ? { keyName: k.name, role: k.role, apps: [], canCreate: false } : null;
    },
    handler: async (_words, _identity, io) => {
      io.stdout.write('ok\n');
      return 0;
    },
    log: silentLogger(),
    limits: { failedAuthPerMinute: 10_000, ...limits },
  });
  const port = await srv.listen(0, '127.0.0.1');
  return {
    port,
    key,
    lookups: () => lookups,
    ssh: (cmd: string) => execa('ssh', [...sshOptions(key.priv, port), 'paas@127.0.0.1', cmd], { reject: false, timeout: 30_000 }),
    async close() {
      await srv.close();
      state.close();
    },
  };
}

test('200 key attempts on one connection are cut at 6', async () => {
  const s = await server({});
  try {
    const keys = Array.from({ length: 200 }, () => generateEd25519Pair().private);
    let offered = 0;
    const client = new ssh2.Client();
    const ended = new Promise<string>((resolve) => {
      client.on('ready', () => resolve('authenticated'));
      client.on('error', (e) => resolve(`error: ${(e as Error).message}`));
      client.on('close', () => resolve('closed'));
    });
    client.connect({
      host: '127.0.0.1',
      port: s.port,
      username: 'paas',
      authHandler: (_methods, _partial, next) => {
        const k = keys[offered++];
        if (!k) return next(false as never);
        next({ type: 'publickey', username: 'paas', key: k } as never);
      },
    });
    const how = await ended;
    client.end();
    assert.equal(how, 'closed', 'the server hung up (a client that ran out of keys would fail on its own)');
    assert.equal(s.lookups(), 6, 'the server looked up exactly 6 keys');
    // the 7th offer may leave the client before the server's disconnect arrives
    assert.ok(offered === 6 || offered === 7, `the client offered ${offered} of 200 keys`);
    // a well-behaved client on a new connection is not affected
    assert.equal((await s.ssh('hello')).stdout, 'ok');
  } finally {
    await s.close();
  }
});

test('unauthenticated connections from one address are capped; the next is closed at once and the cap frees when they go', async () => {
  const s = await server({ unauthenticatedPerAddress: 3, unauthenticated: 100 });
  const open: net.Socket[] = [];
  try {
    const banner = (sock: net.Socket) =>
      new Promise<string>((resolve) => {
        let got = '';
        sock.on('data', (d) => {
          got += d;
          if (got.includes('\n')) resolve(got.split('\n')[0]!.trim());
        });
        sock.on('close', () => resolve(got === '' ? 'closed without a banner' : got.trim()));
      });
    for (let i = 0; i < 3; i++) {
      const sock = net.connect(s.port, '127.0.0.1');
      open.push(sock);
      assert.equal(await banner(sock), 'SSH-2.0-paas');
    }
    const fourth = net.connect(s.port, '127.0.0.1');
    assert.equal(await banner(fourth), 'closed without a banner');
    const refused = await s.ssh('hello');
    assert.equal(refused.exitCode, 255, 'a real client from the same address is refused too while 3 wait');
    for (const sock of open) sock.destroy();
    // the server sees the closes asynchronously: retry until the slots are free (bounded)
    const ok = await waitFor('a client to get in once the waiting connections closed', async () => {
      const r = await s.ssh('hello');
      return r.exitCode === 0 ? r.stdout : null;
    });
    assert.equal(ok, 'ok');
  } finally {
    for (const sock of open) sock.destroy();
    await s.close();
  }
});

test('the failed-auth table keeps at most its bound of addresses, dropping the oldest', () => {
  const l = new AuthLimiter(2, 60_000, 3);
  for (const a of ['a', 'b', 'c', 'd']) l.fail(a, 1000);
  assert.equal(l.size, 3);
  l.fail('b', 1001);
  assert.equal(l.blocked('b', 1002), true);
  assert.equal(l.blocked('a', 1002), false, 'the oldest address was dropped');
  for (let i = 0; i < 50_000; i++) l.fail(`x${i}`, 2000);
  assert.equal(l.size, 3);
});
