import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { makeCa, makeCert } from './test-certs.js';

/** A free TCP port on loopback (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function hasPebble(): boolean {
  return ['/usr/bin/pebble', '/usr/bin/pebble-challtestsrv'].every((f) => fs.existsSync(f));
}

async function waitPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Debian's pebble (a test ACME server) with pebble-challtestsrv as its DNS, answering every name
 * with 127.0.0.1; http-01 validation connects to `httpPort` (paas's HTTP proxy). Its listener
 * uses a certificate from a CA made here (`caFile`, what --acme-ca gets).
 */
export class Pebble {
  readonly dir: string;
  port = 0;
  mgmtPort = 0;
  dnsPort = 0;
  challMgmtPort = 0;
  caFile = '';
  private readonly children: ChildProcess[] = [];

  constructor(dir: string) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Ports and the CA first: paas needs the directory URL and CA file before Pebble can know paas's HTTP port. */
  async prepare(): Promise<this> {
    this.port = await freePort();
    this.mgmtPort = await freePort();
    this.dnsPort = await freePort();
    this.challMgmtPort = await freePort();
    const ca = await makeCa(path.join(this.dir, 'ca'), 'pebble listener CA');
    const leaf = await makeCert(ca, ['localhost', '127.0.0.1']);
    fs.writeFileSync(path.join(this.dir, 'cert.pem'), leaf.cert);
    fs.writeFileSync(path.join(this.dir, 'key.pem'), leaf.key);
    this.caFile = ca.cert;
    return this;
  }

  get directoryUrl(): string {
    return `https://127.0.0.1:${this.port}/dir`;
  }

  async start(httpPort: number): Promise<void> {
    const config = path.join(this.dir, 'pebble.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${this.port}`,
          managementListenAddress: `127.0.0.1:${this.mgmtPort}`,
          certificate: path.join(this.dir, 'cert.pem'),
          privateKey: path.join(this.dir, 'key.pem'),
          httpPort,
          tlsPort: 5001,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    const log = fs.openSync(path.join(this.dir, 'pebble.log'), 'a');
    const chall = spawn(
      'pebble-challtestsrv',
      [
        '-defaultIPv4',
        '127.0.0.1',
        '-defaultIPv6',
        '',
        '-dns01',
        `127.0.0.1:${this.dnsPort}`,
        '-http01',
        '',
        '-https01',
        '',
        '-tlsalpn01',
        '',
        '-management',
        `127.0.0.1:${this.challMgmtPort}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    this.children.push(chall);
    await waitPort(this.challMgmtPort, chall, 'pebble-challtestsrv');
    const pebble = spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${this.dnsPort}`], {
      stdio: ['ignore', log, log],
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    });
    this.children.push(pebble);
    fs.closeSync(log);
    await waitPort(this.port, pebble, 'pebble');
  }

  /** GET on the management listener (e.g. `/roots/0`: the root that signs issued certificates). */
  management(urlPath: string): Promise<string> {
    const ca = fs.readFileSync(this.caFile, 'utf8');
    return new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: this.mgmtPort, path: urlPath, ca, servername: 'localhost' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`pebble ${urlPath}: ${res.statusCode} ${body}`))));
        })
        .once('error', reject);
    });
  }

  /** Makes challtestsrv answer `host` with `ip` (e.g. an address where nothing listens). */
  async mapHost(host: string, ip: string): Promise<void> {
    await fetch(`http://127.0.0.1:${this.challMgmtPort}/add-a`, { method: 'POST', body: JSON.stringify({ host, addresses: [ip] }) });
  }

  log(): string {
    const f = path.join(this.dir, 'pebble.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').slice(-6000) : '';
  }

  /** Kills both processes and waits for them to exit (their ports are free again). */
  async stop(): Promise<void> {
    const alive = this.children.filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = alive.map((c) => new Promise<void>((r) => c.once('exit', () => r())));
    for (const c of alive) c.kill('SIGKILL');
    await Promise.all(exited);
    this.children.length = 0;
  }
}
