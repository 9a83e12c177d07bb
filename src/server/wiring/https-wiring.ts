import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { DataPaths, ServerConfig } from '../../config/server-config.js';
import { NO_NOTIFICATIONS, type NotificationSink } from '../../contracts/notification-sink.js';
import { AcmeIssuer } from '../../https/acme-issuer.js';
import { DEFAULT_ORDER_POLICY } from '../../https/acme-order-gate.js';
import { CertService } from '../../https/cert-service.js';
import { LetsEncryptService } from '../../https/letsencrypt-service.js';
import { RenewalScheduler } from '../../https/renewal-scheduler.js';
import { type TlsProxyPort, TlsSync } from '../../https/tls-sync.js';
import type { Logger } from '../../log/logger.js';
import type { AppHosts } from '../../services/app-hosts.js';
import type { State } from '../../state/state.js';

/** HTTPS: certificates in SQLite sent whole to the proxy, custom ones, and Let's Encrypt over ACME http-01. */
export interface HttpsBundle {
  /** sends the proxy its certificates (at start and after every change) */
  tls: TlsSync;
  certs: CertService;
  letsencrypt: LetsEncryptService;
  /** Let's Encrypt renewals, started by the server's background jobs */
  renewals: RenewalScheduler;
}

export function wireHttps(
  config: ServerConfig,
  paths: DataPaths,
  state: State,
  proxy: TlsProxyPort,
  hosts: Pick<AppHosts, 'hosts' | 'globalDomain'>,
  knobs: ControlPlaneKnobs,
  log: Logger,
  notify: NotificationSink = NO_NOTIFICATIONS,
): HttpsBundle {
  const appHosts = (app: string) => hosts.hosts(app);
  const tls = new TlsSync({ certs: state.certificates, hosts: appHosts, proxy, log: log.child({ module: 'tls' }) });
  const certs = new CertService({ certs: state.certificates, hosts: appHosts, sync: tls, globalDomain: () => hosts.globalDomain() });
  const letsencrypt = new LetsEncryptService({
    acme: state.acme,
    certs: state.certificates,
    globals: state.settings,
    hosts: appHosts,
    issuer: new AcmeIssuer({
      accountDir: paths.acme,
      proxy,
      log: log.child({ module: 'acme' }),
      timeoutMs: knobs.acmeTimeoutMs,
      caPem: config.acmeCaPem,
      pollMs: knobs.acmePollMs,
    }),
    sync: tls,
    defaults: { directoryUrl: config.acmeDirectory, email: config.acmeEmail },
    retryBaseMs: knobs.acmeRetryBaseMs,
    orderPolicy: { ...DEFAULT_ORDER_POLICY, forceSpacingMs: knobs.acmeForceSpacingMs ?? DEFAULT_ORDER_POLICY.forceSpacingMs },
    log: log.child({ module: 'letsencrypt' }),
  });
  const renewals = new RenewalScheduler(
    letsencrypt,
    { intervalMs: knobs.acmeRenewIntervalMs, firstDelayMs: knobs.acmeRenewFirstMs },
    log.child({ module: 'renewals' }),
    notify,
  );
  return { tls, certs, letsencrypt, renewals };
}
