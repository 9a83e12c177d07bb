import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { SshErrors } from './ssh-errors.js';

export interface PublicKey {
  type: string;
  /** the SSH wire-format key blob */
  blob: Buffer;
  /** `SHA256:<base64>` as `ssh-keygen -lf` prints it */
  fingerprint: string;
  /** `<type> <base64>` without the comment */
  canonical: string;
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`); anything else is refused. */
export function parsePublicKey(text: string): PublicKey {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!line) throw SshErrors.keyInvalid('no public key given on stdin');
  if (line.includes('PRIVATE KEY')) throw SshErrors.keyInvalid('that is a private key; give the .pub file');
  const parsed = ssh2.utils.parseKey(line);
  if (parsed instanceof Error || Array.isArray(parsed)) {
    throw SshErrors.keyInvalid('not an OpenSSH public key (expected a line like "ssh-ed25519 AAAA… comment")');
  }
  if (parsed.isPrivateKey()) throw SshErrors.keyInvalid('that is a private key; give the .pub file');
  const blob = parsed.getPublicSSH();
  return { type: parsed.type, blob, fingerprint: fingerprintOf(blob), canonical: `${parsed.type} ${blob.toString('base64')}` };
}
