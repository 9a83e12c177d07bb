// The test suites' own ssh client options (sshOptions) must not remember host keys. Servers come and
// go on reused loopback ports with new host keys; a remembered key turns into a "REMOTE HOST
// IDENTIFICATION HAS CHANGED" warning on stderr, and every test that asserts one clean line of
// stderr fails. With `UserKnownHostsFile=/dev/null` that happened in CI, where /dev/null is a plain
// file: ssh appended each key to it. This drives the real OpenSSH client at two servers with
// different host keys, one after the other on the same port.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { silentLogger } from '../../src/log/logger.js';
import { ensureHostKey } from '../../src/ssh/host-key.js';
import { parsePublicKey } from '../../src/ssh/public-key.js';
import { SshServer } from '../../src/ssh/ssh-server.js';
import { makeKey, NO_KNOWN_HOSTS, sshOptions } from '../helpers/paas-server.js';

test('a second server on a reused port with a new host key gets a clean session: the test client stores no host key', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-hostkeys-'));
  const key = await makeKey(dir, 'alice');
  const alice = parsePublicKey(fs.readFileSync(key.pub, 'utf8'));
  const row = {
    id: 1,
    name: 'alice',
    fingerprint: alice.fingerprint,
    public_key: alice.canonical,
    role: 'admin' as const,
    can_create: 0,
    created_at: '',
  };
  const serve = async (name: string, port: number) => {
    const server = new SshServer({
      hostKey: await ensureHostKey(path.join(dir, name)),
      findKey: (fp) => (fp === alice.fingerprint ? row : undefined),
      identify: (fp) => (fp === alice.fingerprint ? { keyName: 'alice', role: 'admin', apps: [], canCreate: false } : null),
      handler: async (_words, _id, io) => {
        io.stdout.write(`${name}\n`);
        return 0;
      },
      log: silentLogger(),
    });
    return { server, port: await server.listen(port, '127.0.0.1') };
  };
  const ssh = (port: number) => execa('ssh', [...sshOptions(key.priv, port), 'paas@127.0.0.1', 'who'], { reject: false, timeout: 20_000 });
  try {
    const first = await serve('host-a', 0);
    const a = await ssh(first.port);
    await first.server.close();
    const second = await serve('host-b', first.port);
    const b = await ssh(second.port);
    await second.server.close();
    assert.notEqual(fs.readFileSync(path.join(dir, 'host-a')), fs.readFileSync(path.join(dir, 'host-b')), 'two host keys');
    assert.deepEqual([a.exitCode, a.stdout, a.stderr], [0, 'host-a', '']);
    assert.deepEqual([b.exitCode, b.stdout, b.stderr], [0, 'host-b', ''], 'no warning about a changed host key');
    assert.equal(fs.existsSync(NO_KNOWN_HOSTS), false, 'nothing was stored');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
