import type { Logger } from '../log/logger.js';
import type { TlsState } from '../proxy/tls/tls-state.js';
import type { CertificatesRepository, StoredCert } from '../state/certificates-repository.js';
import { namesCover } from '../util/x509-names.js';

/** What TLS needs of the proxy (the ProxyClient has it). */
export interface TlsProxyPort {
  setTls(state: TlsState): Promise<unknown>;
  setChallenge(token: string, keyAuthorization: string): Promise<unknown>;
  removeChallenge(token: string): Promise<unknown>;
}

export interface TlsSyncDeps {
  certs: Pick<CertificatesRepository, 'all' | 'options'>;
  /** every host of an app (global name first) */
  hosts: (app: string) => string[];
  proxy: TlsProxyPort;
  log: Logger;
}

/** The certificate an app serves for `host`: its custom one when it covers the host, else Let's Encrypt's. */
export function certFor(certs: readonly StoredCert[], host: string): StoredCert | undefined {
  return (
    certs.find((c) => c.source === 'custom' && namesCover(c.names, host)) ??
    certs.find((c) => c.source === 'letsencrypt' && namesCover(c.names, host))
  );
}

export function certId(c: Pick<StoredCert, 'app' | 'source'>): string {
  return `${c.app}/${c.source}`;
}

/**
 * Sends the proxy the whole TLS state built from SQLite: every certificate, and for each host of
 * an app with one the certificate that covers it plus the app's redirect/HSTS choice. Sent at
 * start (the proxy may have missed changes) and after every change; calls are serialized, so
 * the last state sent is always the newest.
 */
export class TlsSync {
  private chain: Promise<unknown> = Promise.resolve();
  private extraHosts: () => string[] = () => [];

  constructor(private readonly deps: TlsSyncDeps) {}

  /**
   * Hosts of paas itself (the dashboard's) served with any stored certificate that covers them
   * (a custom one first, as for apps), with the HTTP to HTTPS redirect on.
   */
  serveAlso(hosts: () => string[]): void {
    this.extraHosts = hosts;
  }

  state(): TlsState {
    const all = this.deps.certs.all();
    const byApp = new Map<string, StoredCert[]>();
    for (const c of all) byApp.set(c.app, [...(byApp.get(c.app) ?? []), c]);
    const hosts: TlsState['hosts'] = {};
    for (const [app, certs] of byApp) {
      const opts = this.deps.certs.options(app);
      for (const host of this.deps.hosts(app)) {
        const c = certFor(certs, host);
        if (c) hosts[host] = { cert: certId(c), redirect: opts.redirect, hsts: opts.hsts };
      }
    }
    for (const host of this.extraHosts()) {
      const c = hosts[host] === undefined ? certFor(all, host) : undefined;
      if (c) hosts[host] = { cert: certId(c), redirect: true, hsts: false };
    }
    // custom certificates first: their wildcard names win the proxy's wildcard fallback
    const ordered = [...all.filter((c) => c.source === 'custom'), ...all.filter((c) => c.source !== 'custom')];
    return { certs: ordered.map((c) => ({ id: certId(c), cert: c.certPem, key: c.keyPem })), hosts };
  }

  sync(): Promise<void> {
    const run = async () => {
      const state = this.state();
      await this.deps.proxy.setTls(state);
      this.deps.log.debug({ certs: state.certs.length, hosts: Object.keys(state.hosts).length }, 'TLS state sent to the proxy');
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => {});
    return next;
  }
}
