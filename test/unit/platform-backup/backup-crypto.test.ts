import assert from 'node:assert/strict';
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { execa } from 'execa';
import {
  decryptStream,
  ed25519SeedToX25519Private,
  ed25519ToX25519Public,
  encryptStream,
  parseIdentity,
  parseRecipient,
} from '../../../src/platform-backup/backup-crypto.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-bkcrypto-'));
async function sshKey(name: string, type: 'ed25519' | 'rsa'): Promise<{ priv: string; pub: string }> {
  const priv = path.join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', priv]);
  return { priv: fs.readFileSync(priv, 'utf8'), pub: fs.readFileSync(`${priv}.pub`, 'utf8') };
}

async function run(input: Buffer[], t: NodeJS.ReadWriteStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(input),
    t,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
const chunks = [data.subarray(0, 1), data.subarray(1, 65_536), data.subarray(65_536, 200_001), data.subarray(200_001)];

for (const type of ['ed25519', 'rsa'] as const) {
  test(`an ssh-${type} key: what is encrypted to its public key decrypts with its private key, in any chunking`, async () => {
    const k = await sshKey(`k-${type}`, type);
    const enc = await run(chunks, encryptStream(parseRecipient(k.pub)));
    assert.ok(!enc.includes(data.subarray(1000, 1032)), 'no plaintext in the output');
    assert.ok(enc.subarray(0, 9).equals(Buffer.from('PAASENC1\n')));
    const pieces = [enc.subarray(0, 5), enc.subarray(5, 70_000), enc.subarray(70_000)];
    assert.ok((await run(pieces, decryptStream(parseIdentity(k.priv)))).equals(data));
    // two encryptions of the same data differ (fresh file key and nonces)
    assert.ok(!(await run(chunks, encryptStream(parseRecipient(k.pub)))).equals(enc));
  });
}

test('an empty input still makes a sealed, authenticated last record', async () => {
  const k = await sshKey('empty', 'ed25519');
  const enc = await run([], encryptStream(parseRecipient(k.pub)));
  assert.equal((await run([enc], decryptStream(parseIdentity(k.priv)))).length, 0);
});

test('a truncated, altered, extended or foreign stream is refused', async () => {
  const k = await sshKey('t', 'ed25519');
  const other = await sshKey('o', 'ed25519');
  const enc = await run([data], encryptStream(parseRecipient(k.pub)));
  const id = parseIdentity(k.priv);
  await assert.rejects(run([enc.subarray(0, enc.length - 1)], decryptStream(id)), /truncated/);
  // cut exactly at a record boundary: the last-record flag is missing
  const headerEnd = 9 + 4 + enc.readUInt32BE(9);
  const firstRecordEnd = headerEnd + 4 + enc.readUInt32BE(headerEnd);
  await assert.rejects(run([enc.subarray(0, firstRecordEnd)], decryptStream(id)), /truncated/);
  const flipped = Buffer.from(enc);
  flipped[flipped.length - 100] ^= 1;
  await assert.rejects(run([flipped], decryptStream(id)), /does not authenticate/);
  await assert.rejects(run([Buffer.concat([enc, enc.subarray(-50)])], decryptStream(id)), /after the last record|damaged/);
  await assert.rejects(run([enc], decryptStream(parseIdentity(other.priv))), /encrypted to SHA256:.*not to this key/);
  await assert.rejects(run([Buffer.from('not an archive at all')], decryptStream(id)), /not an encrypted paas backup/);
});

test('ed25519 keys map to X25519 consistently (public map of the public key = public key of the mapped private key)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const edPub = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
  const seed = Buffer.from((privateKey.export({ format: 'jwk' }) as { d: string }).d, 'base64url');
  const xPriv = ed25519SeedToX25519Private(seed);
  const fromPriv = Buffer.from((createPublicKey(xPriv).export({ format: 'jwk' }) as { x: string }).x, 'base64url');
  assert.ok(ed25519ToX25519Public(edPub).equals(fromPriv));
  const eph = generateKeyPairSync('x25519');
  assert.ok(diffieHellman({ privateKey: xPriv, publicKey: eph.publicKey }).length === 32);
});

test('bad recipients and identities are refused with one line', async () => {
  assert.throws(() => parseRecipient(''), /give --encrypt-to an OpenSSH public key/);
  assert.throws(() => parseRecipient('ssh-dss AAAAB3NzaC1kc3MAAACBAP'), /unsupported key type 'ssh-dss'|not an OpenSSH public key/);
  const ecdsa = path.join(dir, 'ec');
  await execa('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsa]);
  assert.throws(() => parseRecipient(fs.readFileSync(`${ecdsa}.pub`, 'utf8')), /unsupported key type 'ecdsa-sha2-nistp256'/);
  assert.throws(() => parseIdentity('nonsense'), /not a usable private key/);
  const k = await sshKey('pubonly', 'ed25519');
  assert.throws(() => parseIdentity(k.pub), /not a usable private key/);
});
