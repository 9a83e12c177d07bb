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

/** The largest PEM bundle certs:add takes (a long chain with a key is a few KiB). */
export const MAX_PEM_BUNDLE_BYTES = 256 * 1024;

/** One `-----BEGIN TYPE-----` … `-----END TYPE-----` block, the text as given plus a final newline. */
export interface PemBlock {
  type: string;
  pem: string;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** A character of a PEM label: A-Z, 0-9 or a space. */
function isLabelChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 32;
}

/** The label after `-----BEGIN ` / `-----END ` at `from`, when `-----` follows it; its end is the index after the dashes. */
function labelAt(text: string, from: number): { label: string; end: number } | undefined {
  let i = from;
  while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
  if (i === from || !text.startsWith(DASHES, i)) return undefined;
  return { label: text.slice(from, i), end: i + DASHES.length };
}

/**
 * The PEM blocks of a text, in linear time: the blocks
 * `/-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g` would match, found without a
 * backtracking regex (which takes quadratic time on many BEGIN lines without their END: ~2 s for
 * 256 KiB). Every END marker is indexed once by label; a BEGIN takes the first END of its label
 * after its header line, and one without an END is skipped as the regex skips it.
 */
export function pemBlocks(text: string): PemBlock[] {
  const ends = new Map<string, { at: number[]; next: number }>();
  for (let i = text.indexOf(END); i !== -1; i = text.indexOf(END, i + 1)) {
    const l = labelAt(text, i + END.length);
    if (!l) continue;
    const e = ends.get(l.label) ?? { at: [], next: 0 };
    e.at.push(i);
    ends.set(l.label, e);
  }
  const blocks: PemBlock[] = [];
  let from = 0;
  for (let i = text.indexOf(BEGIN); i !== -1; i = text.indexOf(BEGIN, from)) {
    from = i + 1;
    const l = labelAt(text, i + BEGIN.length);
    if (!l) continue;
    let body = l.end;
    if (text.charCodeAt(body) === 13) body++;
    if (text.charCodeAt(body) !== 10) continue;
    body++;
    const e = ends.get(l.label);
    if (!e) continue;
    // BEGINs are met in order, so the first END at or after this body only moves forward
    while (e.next < e.at.length && e.at[e.next] < body) e.next++;
    if (e.next === e.at.length) continue;
    const stop = e.at[e.next] + END.length + l.label.length + DASHES.length;
    blocks.push({ type: l.label, pem: `${text.slice(i, stop)}\n` });
    from = stop;
  }
  return blocks;
}

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
  if (Buffer.byteLength(text, 'utf8') > MAX_PEM_BUNDLE_BYTES)
    throw CertErrors.invalidPem(
      `the PEM bundle is larger than ${MAX_PEM_BUNDLE_BYTES / 1024} KiB; give the certificate chain and its key only`,
    );
  const blocks = pemBlocks(text);
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
