import { silentLogger } from '../../src/log/logger.js';
import type { OrderPolicy } from '../../src/https/acme-order-gate.js';
import type { IssueRequest } from '../../src/https/acme-issuer.js';
import { LetsEncryptService } from '../../src/https/letsencrypt-service.js';
import type { State } from '../../src/state/state.js';

/** A Let's Encrypt service over a real State for unit tests: `issue` plays the ACME server, each app's host is `<app>.example.test`. */
export function letsEncryptOver(
  state: State,
  issue: (req: IssueRequest) => Promise<{ certPem: string; keyPem: string }>,
  opts: { directoryUrl: string; orderPolicy?: OrderPolicy; hosts?: (app: string) => string[] },
): LetsEncryptService {
  return new LetsEncryptService({
    acme: state.acme,
    certs: state.certificates,
    globals: state.settings,
    hosts: opts.hosts ?? ((app) => [`${app}.example.test`]),
    issuer: { issue },
    sync: { sync: async () => {} },
    defaults: { directoryUrl: opts.directoryUrl, email: 'ops@example.test' },
    retryBaseMs: 60_000,
    orderPolicy: opts.orderPolicy,
    log: silentLogger(),
  });
}
