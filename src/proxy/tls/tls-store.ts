import { createHash, X509Certificate } from 'node:crypto';
import tls, { type SecureContext } from 'node:tls';
import type { Logger } from '../../log/logger.js';
import { certificateNames } from '../../util/x509-names.js';
import type { TlsHost, TlsState } from './tls-state.js';

export interface TlsPair {
  cert: Buffer | string;
  key: Buffer | string;
}

/**
 * A worker's certificates, swapped whole by apply(): the SNI callback picks the context of the
 * exact host, then of a certificate's wildcard name (only for a host no service routes: an app's
 * host never gets the certificate another app uploaded), then the default. A handshake in progress
 * keeps the context it got, and established connections are not touched, so a swap drops nothing.
 */
export class TlsStore {
  private readonly defaultContext: SecureContext;
  private readonly log: Logger;
  /** contexts by a hash of cert + key: an unchanged certificate keeps its context across applies */
  private built = new Map<string, SecureContext>();
  private exact = new Map<string, SecureContext>();
  /** `example.com` -> the context of a `*.example.com` certificate */
  private wildcard = new Map<string, SecureContext>();
  private policies = new Map<string, TlsHost>();

  /** a host some service routes: it gets its own certificate or the default, never another's wildcard */
  private readonly isRouted: (host: string) => boolean;

  constructor(defaultPair: TlsPair, log: Logger, isRouted: (host: string) => boolean = () => false) {
    this.defaultContext = tls.createSecureContext(defaultPair);
    this.log = log;
    this.isRouted = isRouted;
  }

  /** Replaces everything; a certificate that does not load is logged and skipped (its hosts get the default). */
  apply(state: TlsState): void {
    const built = new Map<string, SecureContext>();
    const byId = new Map<string, SecureContext>();
    const wildcard = new Map<string, SecureContext>();
    for (const c of state.certs) {
      const hash = createHash('sha256').update(c.cert).update('\0').update(c.key).digest('hex');
      try {
        const ctx = this.built.get(hash) ?? tls.createSecureContext({ cert: c.cert, key: c.key });
        built.set(hash, ctx);
        byId.set(c.id, ctx);
        for (const name of certificateNames(new X509Certificate(c.cert))) {
          if (name.startsWith('*.') && !wildcard.has(name.slice(2))) wildcard.set(name.slice(2), ctx);
        }
      } catch (err) {
        this.log.error({ cert: c.id, err: (err as Error).message }, 'certificate does not load; its hosts get the default');
      }
    }
    const exact = new Map<string, SecureContext>();
    const policies = new Map<string, TlsHost>();
    for (const [host, h] of Object.entries(state.hosts)) {
      const ctx = byId.get(h.cert);
      if (ctx === undefined) continue;
      exact.set(host, ctx);
      policies.set(host, h);
    }
    this.built = built;
    this.exact = exact;
    this.wildcard = wildcard;
    this.policies = policies;
  }

  contextFor(servername: string | undefined): SecureContext {
    if (!servername) return this.defaultContext;
    const host = servername.toLowerCase();
    const hit = this.exact.get(host);
    if (hit !== undefined) return hit;
    const dot = host.indexOf('.');
    if (dot <= 0 || this.wildcard.size === 0 || this.isRouted(host)) return this.defaultContext;
    return this.wildcard.get(host.slice(dot + 1)) ?? this.defaultContext;
  }

  /** The redirect/HSTS policy of a host (from a Host header: the port is ignored). */
  policy(hostHeader: string | undefined): TlsHost | undefined {
    if (hostHeader === undefined || this.policies.size === 0) return undefined;
    const colon = hostHeader.lastIndexOf(':');
    const host = colon > 0 && !hostHeader.endsWith(']') ? hostHeader.slice(0, colon) : hostHeader;
    return this.policies.get(host.toLowerCase());
  }

  /** For tls.createServer's SNICallback. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(servername));
  };
}
