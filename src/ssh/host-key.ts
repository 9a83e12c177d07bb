import fs from 'node:fs';
import path from 'node:path';
import { SshErrors } from './ssh-errors.js';

/** Returns the SSH host key, creating an ed25519 key with ssh-keygen the first time. Never overwrites one. */
export async function ensureHostKey(file: string): Promise<Buffer> {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      // loaded here: only a first start makes a key, and the control plane stays smaller without execa
      const { execa } = await import('execa');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'paas-host', '-f', file]);
    } catch (cause) {
      throw SshErrors.hostKey(`cannot create the SSH host key at ${file} (is ssh-keygen installed?)`, cause);
    }
  }
  return fs.readFileSync(file);
}
