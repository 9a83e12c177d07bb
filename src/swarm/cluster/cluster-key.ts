import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { generateEd25519Pair } from '../../ssh/ed25519-pair.js';

export interface ClusterKey {
  /** OpenSSH private key (PEM), what the ssh2 client authenticates with */
  privateKey: string;
  /** `ssh-ed25519 AAAA… paas@cluster`, the line a node's authorized_keys needs */
  publicKey: string;
}

/**
 * paas's own ed25519 key for preparing and joining nodes over SSH: made once in the data dir
 * (`keys/cluster_ed25519`, mode 600, and its `.pub`), then read back on every use.
 */
export function ensureClusterKey(keysDir: string): ClusterKey {
  const file = path.join(keysDir, 'cluster_ed25519');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const pair = generateEd25519Pair('paas@cluster');
    try {
      // wx: two commands racing here keep the first key
      fs.writeFileSync(file, pair.private, { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(`${file}.pub`, `${pair.public.trim()}\n`, { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const privateKey = fs.readFileSync(file, 'utf8');
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  return { privateKey, publicKey: `${key.type} ${key.getPublicSSH().toString('base64')} paas@cluster` };
}
