import { spawn } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { dataPaths } from '../../config/server-config.js';
import { ProxyErrors } from '../proxy-errors.js';

interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

function run(cmd: string, args: string[], owner: Owner | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${stderr.trim().split('\n').pop()}`))));
  });
}

/** The proxy user, when the files are made by root for it. */
interface Owner {
  uid: number;
  gid: number;
}

/** Reads a file without following a symlink in its last component (the folder is the proxy user's). */
export async function readNoFollow(file: string): Promise<Buffer> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/**
 * Returns `<dataDir>/certs/default.{crt,key}`, creating a self-signed pair with openssl the first
 * time; with `owner`, openssl runs as that user, so root never writes into the proxy's folder.
 */
export async function ensureDefaultCert(dataDir: string, owner?: Owner): Promise<TlsPair> {
  const dir = dataPaths(dataDir).certs;
  const crt = path.join(dir, 'default.crt');
  const key = path.join(dir, 'default.key');
  if (!existsSync(crt) || !existsSync(key)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await run(
        'openssl',
        [
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
        ],
        owner,
      );
    } catch (err) {
      throw ProxyErrors.certFailed(`cannot create the default TLS certificate with openssl: ${(err as Error).message}`, err);
    }
  }
  return { cert: await readNoFollow(crt), key: await readNoFollow(key) };
}
