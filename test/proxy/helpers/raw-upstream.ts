import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RawUpstream {
  port: number;
  address: string;
  /** request heads received, in order */
  heads: string[];
  close(): Promise<void>;
}

/** Responses a raw socket server writes byte for byte (then closes the connection), by request path. */
export type RawResponses = Record<string, string>;

/**
 * An upstream that answers with exactly the bytes given for the request's path, then closes: for
 * responses Node's own server never sends (HTTP/1.0, close-delimited bodies, bare LF, hop-by-hop
 * headers named in Connection).
 */
export async function startRawUpstream(responses: RawResponses): Promise<RawUpstream> {
  const heads: string[] = [];
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.slice(0, end);
      heads.push(head);
      const target = head.split(' ')[1] ?? '/';
      socket.end(responses[target] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1');
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    heads,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface BusyboxUpstream {
  port: number;
  address: string;
  close(): Promise<void>;
}

/** `busybox httpd` serving CGI scripts (name -> shell script body) from a temp dir, on a free port. */
export async function startBusyboxCgi(scripts: Record<string, string>): Promise<BusyboxUpstream> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'paas-busybox-cgi-'));
  await mkdir(path.join(dir, 'cgi-bin'));
  for (const [name, body] of Object.entries(scripts)) {
    const file = path.join(dir, 'cgi-bin', name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
  }
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const child: ChildProcess = spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: async () => {
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
