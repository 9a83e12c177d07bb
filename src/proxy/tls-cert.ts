import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { dataPaths } from '../config/server-config.js';
import { ProxyErrors } from './proxy-errors.js';

interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${stderr.trim().split('\n').pop()}`))));
  });
}

/** Returns `<dataDir>/certs/default.{crt,key}`, creating a self-signed pair with openssl the first time. */
export async function ensureDefaultCert(dataDir: string): Promise<TlsPair> {
  const dir = dataPaths(dataDir).certs;
  const crt = path.join(dir, 'default.crt');
  const key = path.join(dir, 'default.key');
  if (!existsSync(crt) || !existsSync(key)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-sha256',
        '-days',
        '3650',
        '-subj',
        '/CN=paas-default',
        '-keyout',
        key,
        '-out',
        crt,
      ]);
    } catch (err) {
      throw ProxyErrors.certFailed(`cannot create the default TLS certificate with openssl: ${(err as Error).message}`, err);
    }
  }
  return { cert: await readFile(crt), key: await readFile(key) };
}
