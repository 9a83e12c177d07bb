import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { findExecutable } from '../../builders/find-executable.js';
import { RegistryErrors } from './registry-errors.js';

/** Where paas's registry lives and how clients log in to it. */
export interface RegistryEndpoint {
  /** `host:port` it listens on and images are tagged with */
  address: string;
  username: string;
  password: string;
  /** the CA that signed its certificate (nodes trust it in /etc/docker/certs.d/<address>/ca.crt) */
  caPem: string;
}

/** Runs a tool (openssl, htpasswd) with an argument array; stdin fed when given; stdout returned. */
function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', (e) => reject(RegistryErrors.setupFailed(`cannot run ${cmd}: ${e.message}`, e)));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(RegistryErrors.setupFailed(`${cmd} exited ${code}: ${err.trim().split('\n').pop() ?? ''}`)),
    );
    // a tool that exits without reading its stdin closes the pipe: EPIPE here is no error of ours
    // (the exit code decides), and unhandled it would crash the control plane
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/**
 * The registry's files under `<data-dir>/registry`: a CA paas makes with the openssl CLI
 * (node:crypto cannot sign X.509 certificates), a server certificate for its address signed by
 * it, an htpasswd file (bcrypt, as the registry requires, made by apache2-utils' htpasswd), the
 * login paas and the nodes use (`credentials.json`, mode 600), the config and the image storage.
 */
export class RegistryFiles {
  constructor(readonly dir: string) {}

  /** The Debian packages missing for the registry's programs (docker-registry, htpasswd, openssl). */
  static async missingPackages(envPath = process.env.PATH): Promise<string[]> {
    const needs: [string, string][] = [
      ['docker-registry', 'docker-registry'],
      ['htpasswd', 'apache2-utils'],
      ['openssl', 'openssl'],
    ];
    const missing: string[] = [];
    for (const [program, pkg] of needs) if ((await findExecutable(program, envPath)) === null) missing.push(pkg);
    return missing;
  }

  get configFile(): string {
    return path.join(this.dir, 'config.yml');
  }
  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /** The endpoint prepared earlier, or null before cluster:init. */
  endpoint(): RegistryEndpoint | null {
    try {
      const creds = JSON.parse(fs.readFileSync(this.file('credentials.json'), 'utf8')) as Omit<RegistryEndpoint, 'caPem'>;
      return { ...creds, caPem: fs.readFileSync(this.file('ca.crt'), 'utf8') };
    } catch {
      return null;
    }
  }

  /** Makes what is missing for a registry on `address` (host:port); kept as they are when present. */
  async prepare(address: string): Promise<RegistryEndpoint> {
    fs.mkdirSync(path.join(this.dir, 'data'), { recursive: true, mode: 0o700 });
    const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
    const [ca, caKey] = [this.file('ca.crt'), this.file('ca.key')];
    if (!fs.existsSync(ca) || !fs.existsSync(caKey)) {
      await run('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', caKey, '-out', ca, '-days', '3650', '-subj', '/CN=paas registry CA'],
        ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ]);
      fs.chmodSync(caKey, 0o600);
    }
    const certFor = this.file('server.address');
    const [crt, key] = [this.file('server.crt'), this.file('server.key')];
    if (!fs.existsSync(crt) || (fs.existsSync(certFor) ? fs.readFileSync(certFor, 'utf8') : '') !== address) {
      const csr = this.file('server.csr');
      const ext = this.file('server.ext');
      fs.writeFileSync(ext, `subjectAltName=${net.isIP(host) ? 'IP' : 'DNS'}:${host}\nextendedKeyUsage=serverAuth\n`);
      await run('openssl', [
        ...['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', key, '-out', csr, '-subj', `/CN=${host}`],
      ]);
      await run('openssl', [
        ...['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial'],
        ...['-out', crt, '-days', '825', '-extfile', ext],
      ]);
      fs.chmodSync(key, 0o600);
      fs.rmSync(csr, { force: true });
      fs.writeFileSync(certFor, address);
    }
    let creds = this.endpoint();
    if (!creds) {
      const password = randomBytes(24).toString('base64url');
      const line = await run('htpasswd', ['-niB', 'paas'], `${password}\n`);
      fs.writeFileSync(this.file('htpasswd'), line, { mode: 0o600 });
      fs.writeFileSync(this.file('credentials.json'), JSON.stringify({ address, username: 'paas', password }), { mode: 0o600 });
      creds = this.endpoint()!;
    } else if (creds.address !== address) {
      fs.writeFileSync(this.file('credentials.json'), JSON.stringify({ ...creds, caPem: undefined, address }), { mode: 0o600 });
      creds = { ...creds, address };
    }
    fs.writeFileSync(this.configFile, this.config(address), { mode: 0o600 });
    return creds;
  }

  private config(address: string): string {
    const secret = randomBytes(16).toString('hex');
    return [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(path.resolve(this.dir, 'data'))}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${JSON.stringify(address)}`,
      `  secret: ${secret}`,
      '  tls:',
      `    certificate: ${JSON.stringify(path.resolve(this.file('server.crt')))}`,
      `    key: ${JSON.stringify(path.resolve(this.file('server.key')))}`,
      'auth:',
      '  htpasswd:',
      '    realm: paas',
      `    path: ${JSON.stringify(path.resolve(this.file('htpasswd')))}`,
      '',
    ].join('\n');
  }
}
