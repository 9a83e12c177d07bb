import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import { NodeShell } from '../../../../src/swarm/cluster/node-shell.js';
import { generateEd25519Pair } from '../../../../src/ssh/ed25519-pair.js';

/** A loopback SSH server with its own host key that accepts one client key and answers `echo`. */
async function server(hostKey: string, allowed: string): Promise<{ port: number; close(): void }> {
  const allowedKey = ssh2.utils.parseKey(allowed) as ssh2.ParsedKey;
  const srv = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.key.data.equals(allowedKey.getPublicSSH())) ctx.accept();
      else ctx.reject(['publickey']);
    });
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const ch = acceptExec();
        ch.write(`ran: ${info.command}\n`);
        ch.exit(0);
        ch.end();
      });
    });
    client.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

const pair = () => generateEd25519Pair();

function memoryHosts() {
  const known = new Map<string, string>();
  return { known, knownHostKey: (h: string) => known.get(h), recordHostKey: (h: string, k: string) => void known.set(h, k) };
}

test('the host key is trusted on first use, recorded, and a changed one is refused', async () => {
  const [client, hostA, hostB] = [pair(), pair(), pair()];
  const hosts = memoryHosts();
  const a = await server(hostA.private, client.private);
  try {
    const shell = await NodeShell.connect({ user: 'root', host: '127.0.0.1', port: a.port }, client.private, hosts);
    const r = await shell.exec('docker info');
    shell.close();
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'ran: docker info\n');
    assert.match(hosts.known.get(`127.0.0.1:${a.port}`)!, /^ssh-ed25519 SHA256:/);
    // the same server again: accepted
    (await NodeShell.connect({ user: 'root', host: '127.0.0.1', port: a.port }, client.private, hosts)).close();
  } finally {
    a.close();
  }
  // another host key on the same address
  const b = await server(hostB.private, client.private);
  try {
    hosts.known.set(`127.0.0.1:${b.port}`, hosts.known.get(`127.0.0.1:${a.port}`)!);
    await assert.rejects(
      NodeShell.connect({ user: 'root', host: '127.0.0.1', port: b.port }, client.private, hosts),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PAAS_ERR_NODE_HOST_KEY_CHANGED');
        assert.match(e.message, /the SSH host key of 127\.0\.0\.1:\d+ changed .*: refused/);
        return true;
      },
    );
  } finally {
    b.close();
  }
});

test('a key the node does not accept is named as such, and nothing is recorded', async () => {
  const [client, other, host] = [pair(), pair(), pair()];
  const hosts = memoryHosts();
  const s = await server(host.private, other.private);
  try {
    await assert.rejects(
      NodeShell.connect({ user: 'root', host: '127.0.0.1', port: s.port }, client.private, hosts),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PAAS_ERR_NODE_SSH_AUTH');
        assert.match(e.message, /refused paas's SSH key/);
        return true;
      },
    );
    assert.equal(hosts.known.size, 0);
  } finally {
    s.close();
  }
});
