import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { certificateNames } from '../util/x509-names.js';
import { CertErrors } from './cert-errors.js';

/** A certificate chain (leaf first) with its private key, checked, and what reports show of it. */
export interface ParsedCert {
  chainPem: string;
  keyPem: string;
  names: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

function field(dn: string, key: string): string | undefined {
  return new RegExp(`(?:^|\\n)${key}=([^\\n]+)`).exec(dn)?.[1];
}

/** `CN` (or `O`) of an X.509 issuer/subject text. */
export function dnName(dn: string): string {
  return field(dn, 'CN') ?? field(dn, 'O') ?? dn.split('\n')[0] ?? '';
}

/** Reads what a PEM certificate says about itself. */
export function describeCert(x: X509Certificate): Omit<ParsedCert, 'chainPem' | 'keyPem'> {
  return {
    names: certificateNames(x),
    issuer: dnName(x.issuer),
    serial: x.serialNumber.toUpperCase(),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
  };
}

/**
 * Parses a PEM bundle (certificate chain and private key, in any order): the leaf is the
 * certificate the key belongs to and is put first. Throws one clear line for anything else.
 */
export function parsePemBundle(text: string): ParsedCert {
  const blocks = [...text.matchAll(BLOCK)].map((m) => ({ type: m[1], pem: `${m[0]}\n` }));
  const certBlocks = blocks.filter((b) => b.type === 'CERTIFICATE');
  const keyBlocks = blocks.filter((b) => b.type.endsWith('PRIVATE KEY'));
  if (certBlocks.length === 0) throw CertErrors.invalidPem('no PEM certificate on stdin (expected -----BEGIN CERTIFICATE-----)');
  if (keyBlocks.length !== 1)
    throw CertErrors.invalidPem(`expected one PEM private key on stdin, found ${keyBlocks.length} (an encrypted key is not supported)`);
  if (keyBlocks[0].type.includes('ENCRYPTED')) throw CertErrors.invalidPem('the private key is encrypted; give it without a passphrase');
  let certs: X509Certificate[];
  try {
    certs = certBlocks.map((b) => new X509Certificate(b.pem));
  } catch (err) {
    throw CertErrors.invalidPem(`a certificate in the bundle is not valid PEM/X.509: ${(err as Error).message}`, err);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlocks[0].pem);
  } catch (err) {
    throw CertErrors.invalidPem(`the private key is not valid PEM: ${(err as Error).message}`, err);
  }
  const leafIndex = certs.findIndex((c) => c.checkPrivateKey(key));
  if (leafIndex === -1) throw CertErrors.keyMismatch('the private key does not match the certificate');
  const leaf = certs[leafIndex];
  const info = describeCert(leaf);
  if (info.names.length === 0) throw CertErrors.invalidPem('the certificate names no host (no subjectAltName DNS entry or CN)');
  const ordered = [certBlocks[leafIndex], ...certBlocks.filter((_, i) => i !== leafIndex)];
  return { ...info, chainPem: ordered.map((b) => b.pem).join(''), keyPem: keyBlocks[0].pem };
}
