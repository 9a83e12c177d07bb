import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export interface TestCa {
  dir: string;
  cert: string;
  key: string;
  /** the CA certificate's PEM */
  pem: string;
}

export interface TestCert {
  cert: string;
  key: string;
  /** PEM chain then key, what `certs:add` reads */
  bundle: string;
}

/** A throwaway CA made with openssl in `dir`. */
export async function makeCa(dir: string, name = 'paas test CA'): Promise<TestCa> {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'ca.crt');
  const key = path.join(dir, 'ca.key');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '30',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { dir, cert, key, pem: fs.readFileSync(cert, 'utf8') };
}

let seq = 0;

/**
 * A certificate for `names` (subjectAltName DNS entries, the first also CN) signed by `ca`, made
 * with openssl; `expired` makes one whose notAfter has passed.
 */
export async function makeCert(ca: TestCa, names: string[], opts: { days?: number; expired?: boolean } = {}): Promise<TestCert> {
  const base = path.join(ca.dir, `cert-${process.pid}-${++seq}`);
  const ext = `${base}.ext`;
  fs.writeFileSync(ext, `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\n`);
  await execa('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${names[0]}`,
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.csr`,
  ]);
  // -days -1 gives a notAfter a day before now (openssl 3.0 has no -not_after)
  const validity = ['-days', opts.expired ? '-1' : String(opts.days ?? 30)];
  await execa('openssl', [
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-sha256',
    ...validity,
    '-extfile',
    ext,
    '-out',
    `${base}.crt`,
  ]);
  const cert = fs.readFileSync(`${base}.crt`, 'utf8');
  const key = fs.readFileSync(`${base}.key`, 'utf8');
  return { cert, key, bundle: cert + key };
}
