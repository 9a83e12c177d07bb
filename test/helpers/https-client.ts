import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';

export interface HttpsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** serial of the certificate the server presented (upper-case hex) */
  serial: string;
}

/** The serial and CN of the certificate a fresh TLS handshake to 127.0.0.1:port with `servername` (SNI) gets. */
export function servedCert(port: number, servername: string | undefined): Promise<{ serial: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.end();
      resolve({ serial: c.serialNumber.toUpperCase(), cn: String(c.subject?.CN) });
    });
    s.once('error', reject);
  });
}

export function serialOf(pem: string): string {
  return new X509Certificate(pem).serialNumber.toUpperCase();
}

/** GET https://<host><path> on 127.0.0.1:port, SNI and Host set to `host`, verified against `ca`. */
export function httpsGet(
  port: number,
  host: string,
  opts: { ca: string; agent?: https.Agent | false; path?: string },
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: opts.path ?? '/', servername: host, headers: { host }, ca: opts.ca, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber.toUpperCase();
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), serial }),
        );
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/**
 * Runs `workers` request loops of `fn` until `stop()` resolves; returns the counts, the failures
 * (status other than 200 or an exception) with their first reasons, and every serial seen.
 */
export async function loadLoop(
  workers: number,
  fn: (i: number) => Promise<HttpsReply>,
  during: () => Promise<void>,
): Promise<{ ok: number; failures: number; reasons: string[]; serials: Set<string> }> {
  let stop = false;
  const out = { ok: 0, failures: 0, reasons: [] as string[], serials: new Set<string>() };
  const loop = async (i: number) => {
    while (!stop) {
      try {
        const r = await fn(i);
        out.serials.add(r.serial);
        if (r.status === 200) out.ok++;
        else {
          out.failures++;
          if (out.reasons.length < 5) out.reasons.push(`HTTP ${r.status}`);
        }
      } catch (err) {
        out.failures++;
        if (out.reasons.length < 5) out.reasons.push((err as Error).message);
      }
    }
  };
  const loops = Array.from({ length: workers }, (_, i) => loop(i));
  try {
    await during();
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  return out;
}
