import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { silentLogger } from '../../src/log/logger.js';
import type { SshLimits } from '../../src/ssh/ssh-server.js';
import { SshServer } from '../../src/ssh/ssh-server.js';
import { ensureHostKey } from '../../src/ssh/host-key.js';
import { parsePublicKey } from '../../src/ssh/public-key.js';
import { State } from '../../src/state/state.js';
import { makeKey, sshOptions } from '../helpers/paas-server.js';

/** A real SshServer on loopback with small limits, driven by the real OpenSSH client. */
async function setup(limits: Partial<SshLimits>, handler: ConstructorParameters<typeof SshServer>[0]['handler']) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-ssh-'));
  const state = State.open(path.join(dir, 'paas.db'));
  const key = await makeKey(dir, 'alice');
  const stranger = await makeKey(dir, 'stranger');
  const pub = parsePublicKey(fs.readFileSync(key.pub, 'utf8'));
  state.keys.add('alice', pub.fingerprint, pub.canonical);
  const server = new SshServer({
    hostKey: await ensureHostKey(path.join(dir, 'host')),
    findKey: (fp) => state.keys.byFingerprint(fp),
    identify: (fp) => {
      const k = state.keys.byFingerprint(fp);
      return k ? { keyName: k.name, role: k.role, apps: [], canCreate: false } : null;
    },
    handler,
    log: silentLogger(),
    limits,
  });
  const port = await server.listen(0, '127.0.0.1');
  const ssh = (k: string, cmd: string) => execa('ssh', [...sshOptions(k, port), 'paas@127.0.0.1', cmd], { reject: false, timeout: 20_000 });
  return {
    port,
    key,
    stranger,
    ssh,
    async close() {
      await server.close();
      state.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a key past its concurrent-session limit is refused with one line', { timeout: 60_000 }, async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const blocking = new Promise<void>((r) => (entered = r));
  const s = await setup({ sessionsPerKey: 1 }, async (words, _id, io) => {
    if (words[0] === 'block') {
      entered();
      await gate;
    }
    io.stdout.write('done\n');
    return 0;
  });
  try {
    const first = s.ssh(s.key.priv, 'block');
    await blocking; // the first session holds the key's only slot
    const second = await s.ssh(s.key.priv, 'ok');
    assert.equal(second.exitCode, 1);
    assert.equal(second.stderr, "error: too many concurrent sessions for key 'alice' (limit 1)");
    release();
    assert.equal((await first).exitCode, 0);
    assert.equal((await s.ssh(s.key.priv, 'ok')).exitCode, 0, 'the slot is free again');
  } finally {
    release();
    await s.close();
  }
});

test('an address with too many failed authentications is refused, even with a good key', { timeout: 120_000 }, async () => {
  const s = await setup({ failedAuthPerMinute: 3 }, async (_w, _id, io) => {
    io.stdout.write('ran\n');
    return 0;
  });
  try {
    // before the limit, the good key gets in
    const ok = await s.ssh(s.key.priv, 'ok');
    assert.equal(ok.exitCode, 0, String(ok.stderr));
    assert.equal(ok.stdout, 'ran');
    for (let i = 0; i < 3; i++) {
      const r = await s.ssh(s.stranger.priv, 'ok');
      assert.equal(r.exitCode, 255);
      assert.match(String(r.stderr), /Permission denied \(publickey\)/, 'an unknown key is refused at authentication');
    }
    // past the limit, the connection is dropped before authentication: no "Permission denied"
    const r = await s.ssh(s.key.priv, 'ok');
    assert.equal(r.exitCode, 255, 'blocked');
    assert.equal(r.stdout, '');
    assert.doesNotMatch(String(r.stderr), /Permission denied/);
    assert.match(String(r.stderr), /Connection (closed|reset) by (remote host|127\.0\.0\.1)|kex_exchange_identification/);
  } finally {
    await s.close();
  }
});

test('a client that disconnects cancels its command', { timeout: 60_000 }, async () => {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  let aborted!: () => void;
  const wasAborted = new Promise<void>((r) => (aborted = r));
  const s = await setup({}, async (_w, _id, io) => {
    started();
    // no timer: only the abort ends this command (the test's timeout is the deadline)
    await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve()));
    aborted();
    return 0;
  });
  try {
    const child = spawn('ssh', [...sshOptions(s.key.priv, s.port), 'paas@127.0.0.1', 'wait'], { stdio: 'ignore' });
    await running;
    child.kill('SIGKILL');
    await wasAborted;
  } finally {
    await s.close();
  }
});

test('a connection that does not authenticate in time is closed', { timeout: 60_000 }, async () => {
  const s = await setup({ authTimeoutMs: 500 }, async () => 0);
  try {
    const t = Date.now();
    const banner = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(s.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d));
      // no deadline of its own: a connection that stays open fails on the test's timeout
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
    });
    // a lower bound only: it is not closed before the auth timeout (a slow machine closes later)
    assert.ok(Date.now() - t >= 450, `closed after ${Date.now() - t} ms, before the 500 ms auth timeout`);
    assert.match(banner, /^SSH-2\.0-/, 'the server spoke first, then hung up');
  } finally {
    await s.close();
  }
});
