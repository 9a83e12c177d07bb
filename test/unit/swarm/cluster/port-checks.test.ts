import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { execa } from 'execa';
import { closedTargets, listenerCommand, sendToken, tcpProbeCommand } from '../../../../src/swarm/cluster/port-checks.js';

test('the TCP probe reports open and closed targets as the node sees them (bash /dev/tcp)', async () => {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const open = (server.address() as net.AddressInfo).port;
  const closed = await new Promise<number>((r) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  try {
    const out = await execa('sh', [
      '-c',
      tcpProbeCommand([
        { host: '127.0.0.1', port: open },
        { host: '127.0.0.1', port: closed },
      ]),
    ]);
    assert.match(out.stdout, new RegExp(`^open 127\\.0\\.0\\.1/${open}$`, 'm'));
    assert.deepEqual(closedTargets(out.stdout), [`127.0.0.1/${closed}`]);
  } finally {
    server.close();
  }
});

test('the perl listener reports a TCP connection and a datagram only when they carry the token', async () => {
  const [tcp, udp] = [await freePort('tcp'), await freePort('udp')];
  const child = execa('sh', ['-c', listenerCommand('tok123', [`tcp/${tcp}`, `udp/${udp}`])], { reject: false });
  const lines: string[] = [];
  child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  await until(() => lines.includes('ready'));
  await sendToken('127.0.0.1', udp, 'udp', 'wrong');
  await sendToken('127.0.0.1', tcp, 'tcp', 'tok123');
  await until(() => lines.includes(`got tcp/${tcp}`));
  assert.ok(!lines.includes(`got udp/${udp}`), 'a datagram without the token is not counted');
  await sendToken('127.0.0.1', udp, 'udp', 'tok123');
  await until(() => lines.includes(`got udp/${udp}`));
  await child;
});

test('a port already taken on the node is reported busy', async () => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, () => r()));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    const out = await execa('sh', ['-c', `${listenerCommand('t', [`tcp/${port}`])} & sleep 0.5; kill $!`], { reject: false });
    assert.match(out.stdout, new RegExp(`busy tcp/${port}`));
  } finally {
    holder.close();
  }
});

async function freePort(proto: 'tcp' | 'udp'): Promise<number> {
  if (proto === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, () => r()));
    const p = s.address().port;
    s.close();
    return p;
  }
  return new Promise((r) => {
    const s = net.createServer();
    s.listen(0, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
