import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  constants as cryptoConstants,
} from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import ssh2 from 'ssh2';
import { PlatformBackupErrors as E } from './platform-backup-errors.js';

/**
 * Encryption of a platform backup to an SSH public key the admin keeps (node:crypto only, no
 * external tool). A random 32-byte file key is wrapped for the recipient:
 * - `ssh-ed25519`: the key is mapped to X25519 (as age does for ssh recipients), an ephemeral
 *   X25519 key agrees a secret, HKDF-SHA256 makes the wrapping key, AES-256-GCM wraps;
 * - `ssh-rsa`: RSA-OAEP with SHA-256 wraps the file key.
 * The payload is AES-256-GCM in 64 KiB records (the STREAM construction): nonce = 7-byte random
 * prefix, 4-byte record counter, 1-byte last-record flag; a reordered, cut or altered record fails.
 */

export const ENCRYPTED_MAGIC = Buffer.from('PAASENC1\n');
const RECORD = 64 * 1024;
const TAG = 16;
const P = 2n ** 255n - 19n;
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

export interface Recipient {
  type: 'ssh-ed25519' | 'ssh-rsa';
  fingerprint: string;
  /** X25519 public key (ed25519) or the RSA public key */
  key: KeyObject;
}

export interface Identity {
  type: 'ssh-ed25519' | 'ssh-rsa';
  fingerprint: string;
  key: KeyObject;
}

interface Header {
  v: 1;
  alg: 'x25519-hkdf-aes256gcm' | 'rsa-oaep-sha256';
  recipient: string;
  epk?: string;
  wrapped: string;
  nonce: string;
}

function readString(buf: Buffer, at: number): [Buffer, number] {
  if (at + 4 > buf.length) throw E.key('not an OpenSSH public key');
  const len = buf.readUInt32BE(at);
  if (at + 4 + len > buf.length) throw E.key('not an OpenSSH public key');
  return [buf.subarray(at + 4, at + 4 + len), at + 4 + len];
}

const b64url = (b: Buffer) => b.toString('base64url');
const fingerprintOf = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

function leToBig(b: Buffer): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) + BigInt(b[i]!);
  return n;
}

function bigToLe(n: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** The Montgomery u of an Ed25519 public key: u = (1 + y) / (1 - y) mod p (RFC 7748 birational map). */
export function ed25519ToX25519Public(ed: Buffer): Buffer {
  const y = leToBig(ed) & ((1n << 255n) - 1n);
  const den = (((1n - y) % P) + P) % P;
  if (den === 0n) throw E.key('this ed25519 key cannot be used for encryption');
  const u = ((1n + y) * modPow(den, P - 2n, P)) % P;
  return bigToLe(u, 32);
}

/** The X25519 private scalar of an Ed25519 seed: the first half of SHA-512(seed) (clamped by X25519 itself). */
export function ed25519SeedToX25519Private(seed: Buffer): KeyObject {
  const h = createHash('sha512').update(seed).digest().subarray(0, 32);
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8, h]), format: 'der', type: 'pkcs8' });
}

const x25519Public = (raw: Buffer) => createPublicKey({ key: Buffer.concat([X25519_SPKI, raw]), format: 'der', type: 'spki' });
const x25519Raw = (k: KeyObject) => Buffer.from(k.export({ format: 'der', type: 'spki' })).subarray(X25519_SPKI.length);

/** Parses `--encrypt-to`: one OpenSSH public key line (ssh-ed25519 or ssh-rsa). */
export function parseRecipient(text: string): Recipient {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  const words = line?.split(/\s+/) ?? [];
  if (words.length < 2) throw E.key('give --encrypt-to an OpenSSH public key (ssh-ed25519 or ssh-rsa), or a .pub file holding one');
  const blob = Buffer.from(words[1]!, 'base64');
  const [type, at] = readString(blob, 0);
  const fingerprint = fingerprintOf(blob);
  if (type.toString() === 'ssh-ed25519' && words[0] === 'ssh-ed25519') {
    const [pk] = readString(blob, at);
    if (pk.length !== 32) throw E.key('not an ssh-ed25519 public key');
    return { type: 'ssh-ed25519', fingerprint, key: x25519Public(ed25519ToX25519Public(pk)) };
  }
  if (type.toString() === 'ssh-rsa' && words[0] === 'ssh-rsa') {
    const [e, at2] = readString(blob, at);
    const [n] = readString(blob, at2);
    const strip = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
    const key = createPublicKey({ key: { kty: 'RSA', n: b64url(strip(n)), e: b64url(strip(e)) }, format: 'jwk' });
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw E.key('RSA keys under 2048 bits are refused');
    return { type: 'ssh-rsa', fingerprint, key };
  }
  throw E.key(`unsupported key type '${words[0]}': use an ssh-ed25519 or ssh-rsa public key`);
}

/** Parses the private key that decrypts (`--identity FILE`, OpenSSH or PEM; a passphrase-protected key needs PAAS_BACKUP_PASSPHRASE). */
export function parseIdentity(text: string, passphrase?: string): Identity {
  const parsed = ssh2.utils.parseKey(text, passphrase);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey())
    throw E.key(
      `not a usable private key${parsed instanceof Error ? ` (${parsed.message})` : ''}: give the ssh-ed25519 or ssh-rsa private key the archive was encrypted to`,
    );
  const fingerprint = fingerprintOf(parsed.getPublicSSH());
  const key = createPrivateKey(parsed.getPrivatePEM());
  if (parsed.type === 'ssh-ed25519') {
    const jwk = key.export({ format: 'jwk' }) as { d: string };
    return { type: 'ssh-ed25519', fingerprint, key: ed25519SeedToX25519Private(Buffer.from(jwk.d, 'base64url')) };
  }
  if (parsed.type === 'ssh-rsa') return { type: 'ssh-rsa', fingerprint, key };
  throw E.key(`unsupported key type '${parsed.type}': use ssh-ed25519 or ssh-rsa`);
}

const WRAP_INFO = Buffer.from('paas-backup x25519 wrap');

function wrapKeyX25519(shared: Buffer, epk: Buffer, rpk: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, rpk]), WRAP_INFO, 32));
}

function gcm(key: Buffer, nonce: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
}

function ungcm(key: Buffer, nonce: Buffer, data: Buffer): Buffer {
  if (data.length < TAG) throw new Error('short record');
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAuthTag(data.subarray(data.length - TAG));
  return Buffer.concat([d.update(data.subarray(0, data.length - TAG)), d.final()]);
}

const payloadKey = (fileKey: Buffer, header: Buffer) =>
  Buffer.from(hkdfSync('sha256', fileKey, createHash('sha256').update(header).digest(), 'paas-backup payload', 32));

function recordNonce(prefix: Buffer, counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 7);
  n.writeUInt32BE(counter, 7);
  n[11] = last ? 1 : 0;
  return n;
}

/** A Transform that encrypts its input for `r`, in records (see the module comment). */
export function encryptStream(r: Recipient): Transform {
  const fileKey = randomBytes(32);
  const prefix = randomBytes(7);
  let header: Header;
  if (r.type === 'ssh-ed25519') {
    const eph = generateKeyPairSync('x25519');
    const epk = x25519Raw(eph.publicKey);
    const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: r.key });
    const wrapped = gcm(wrapKeyX25519(shared, epk, x25519Raw(r.key)), Buffer.alloc(12), fileKey);
    header = {
      v: 1,
      alg: 'x25519-hkdf-aes256gcm',
      recipient: r.fingerprint,
      epk: epk.toString('base64'),
      wrapped: wrapped.toString('base64'),
      nonce: prefix.toString('base64'),
    };
  } else {
    const wrapped = publicEncrypt({ key: r.key, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, fileKey);
    header = {
      v: 1,
      alg: 'rsa-oaep-sha256',
      recipient: r.fingerprint,
      wrapped: wrapped.toString('base64'),
      nonce: prefix.toString('base64'),
    };
  }
  const headerBytes = Buffer.from(JSON.stringify(header));
  const key = payloadKey(fileKey, headerBytes);
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let counter = 0;
  const emit = (t: Transform, plain: Buffer, last: boolean) => {
    const sealed = gcm(key, recordNonce(prefix, counter++, last), plain);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(sealed.length);
    t.push(Buffer.concat([len, sealed]));
  };
  const lenBuf = Buffer.alloc(4);
  lenBuf.writeUInt32BE(headerBytes.length);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!started) {
        this.push(Buffer.concat([ENCRYPTED_MAGIC, lenBuf, headerBytes]));
        started = true;
      }
      pending.push(chunk);
      pendingLen += chunk.length;
      // keep at least one byte back, so the last record is always the one `flush` seals
      while (pendingLen > RECORD) {
        const all = Buffer.concat(pending);
        emit(this, all.subarray(0, RECORD), false);
        pending = [all.subarray(RECORD)];
        pendingLen = all.length - RECORD;
      }
      cb();
    },
    flush(cb: TransformCallback) {
      if (!started) this.push(Buffer.concat([ENCRYPTED_MAGIC, lenBuf, headerBytes]));
      emit(this, Buffer.concat(pending), true);
      cb();
    },
  });
}

/** The inverse of `encryptStream` for the holder of `identity`; a cut, altered or foreign stream errors. */
export function decryptStream(identity: Identity): Transform {
  let buf: Buffer = Buffer.alloc(0);
  let key: Buffer | null = null;
  let prefix: Buffer | null = null;
  let counter = 0;
  let done = false;
  const fail = (m: string) => E.decrypt(m);
  const readHeader = (): boolean => {
    if (buf.length < ENCRYPTED_MAGIC.length + 4) return false;
    if (!buf.subarray(0, ENCRYPTED_MAGIC.length).equals(ENCRYPTED_MAGIC)) throw fail('not an encrypted paas backup');
    const hl = buf.readUInt32BE(ENCRYPTED_MAGIC.length);
    if (hl > 64 * 1024) throw fail('the encryption header is damaged');
    const start = ENCRYPTED_MAGIC.length + 4;
    if (buf.length < start + hl) return false;
    const headerBytes = buf.subarray(start, start + hl);
    let h: Header;
    try {
      h = JSON.parse(headerBytes.toString()) as Header;
    } catch {
      throw fail('the encryption header is damaged');
    }
    if (h.recipient !== identity.fingerprint)
      throw fail(`the archive is encrypted to ${h.recipient}, not to this key (${identity.fingerprint})`);
    let fileKey: Buffer;
    try {
      if (h.alg === 'x25519-hkdf-aes256gcm' && identity.type === 'ssh-ed25519') {
        const epk = Buffer.from(h.epk ?? '', 'base64');
        const shared = diffieHellman({ privateKey: identity.key, publicKey: x25519Public(epk) });
        const rpk = x25519Raw(createPublicKey(identity.key));
        fileKey = ungcm(wrapKeyX25519(shared, epk, rpk), Buffer.alloc(12), Buffer.from(h.wrapped, 'base64'));
      } else if (h.alg === 'rsa-oaep-sha256' && identity.type === 'ssh-rsa') {
        fileKey = privateDecrypt(
          { key: identity.key, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          Buffer.from(h.wrapped, 'base64'),
        );
      } else throw new Error('algorithm');
    } catch {
      throw fail('this key cannot open the archive (wrong key or a damaged header)');
    }
    key = payloadKey(fileKey, headerBytes);
    prefix = Buffer.from(h.nonce, 'base64');
    buf = buf.subarray(start + hl);
    return true;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        if (!key && !readHeader()) return cb();
        while (buf.length >= 4) {
          const len = buf.readUInt32BE(0);
          if (len > RECORD + TAG) throw fail('a record of the archive is damaged');
          if (buf.length < 4 + len) break;
          if (done) throw fail('data after the last record');
          const sealed = buf.subarray(4, 4 + len);
          buf = buf.subarray(4 + len);
          let plain: Buffer;
          try {
            plain = ungcm(key!, recordNonce(prefix!, counter, false), sealed);
          } catch {
            try {
              plain = ungcm(key!, recordNonce(prefix!, counter, true), sealed);
              done = true;
            } catch {
              throw fail(`record ${counter} of the archive does not authenticate (damaged or altered)`);
            }
          }
          counter++;
          this.push(plain);
        }
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      if (!done || buf.length) return cb(fail('the encrypted archive is truncated'));
      cb();
    },
  });
}
