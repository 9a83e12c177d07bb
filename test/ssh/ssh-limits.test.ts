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

test('a key past its concurrent-session limit is refused with one line', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const s = await setup({ sessionsPerKey: 1 }, async (words, _id, io) => {
    if (words[0] === 'block') await gate;
    io.stdout.write('done\n');
    return 0;
  });
  try {
    const first = s.ssh(s.key.priv, 'block');
    await new Promise((r) => setTimeout(r, 800));
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

test('an address with too many failed authentications is refused, even with a good key', async () => {
  const s = await setup({ failedAuthPerMinute: 3 }, async () => 0);
  try {
    for (let i = 0; i < 3; i++) assert.equal((await s.ssh(s.stranger.priv, 'ok')).exitCode, 255);
    const r = await s.ssh(s.key.priv, 'ok');
    assert.equal(r.exitCode, 255, 'blocked');
  } finally {
    await s.close();
  }
});

test('a client that disconnects cancels its command', async () => {
  let aborted: Promise<boolean> | null = null;
  const s = await setup({}, async (_w, _id, io) => {
    aborted = new Promise((resolve) => {
      io.signal.addEventListener('abort', () => resolve(true));
      setTimeout(() => resolve(false), 10_000);
    });
    await aborted;
    return 0;
  });
  try {
    const child = spawn('ssh', [...sshOptions(s.key.priv, s.port), 'paas@127.0.0.1', 'wait'], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !aborted; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(aborted, 'command started');
    child.kill('SIGKILL');
    assert.equal(await aborted, true);
  } finally {
    await s.close();
  }
});

test('a connection that does not authenticate in time is closed', async () => {
  const s = await setup({ authTimeoutMs: 500 }, async () => 0);
  try {
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const t = Date.now();
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('data', () => {});
      sock.on('close', () => resolve(Date.now() - t));
      sock.on('error', reject);
      setTimeout(() => {
        sock.destroy();
        reject(new Error('not closed'));
      }, 5000);
    });
    assert.ok(closedAfter >= 400 && closedAfter < 3000, `closed after ${closedAfter} ms`);
  } finally {
    await s.close();
  }
});
