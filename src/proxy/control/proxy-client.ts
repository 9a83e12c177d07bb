import http from 'node:http';
import type { ProxyStatus } from './control-api.js';
import type { AccessEntry, ProxyFigures } from '../edge/request-figures.js';
import type { DeployResult, ServiceInfo } from './proxy-controller.js';
import { ProxyErrors, proxyErrorOf } from '../proxy-errors.js';
import type { TlsReport } from './tls-controller.js';
import type { TlsState } from '../tls/tls-state.js';
import type { HandoverRequest } from '../process/proxy-handover.js';
import type { ServiceSpecInput, TrafficControls } from '../routing/service-spec.js';

export type { ProxyStatus, ServiceInfo };

export interface ProxyReport {
  status: ProxyStatus;
  clients: number;
  services: ServiceInfo[];
}

/** The control plane's handle on the proxy: JSON over the proxy's unix socket. */
export class ProxyClient {
  readonly socketPath: string;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  status(): Promise<ProxyStatus> {
    return this.call('GET', '/status');
  }

  /** Health-gates new targets, swaps, drains removed ones; resolves once drained. */
  deploy(service: string, spec: ServiceSpecInput): Promise<DeployResult> {
    return this.call('PUT', `/services/${encodeURIComponent(service)}`, spec);
  }

  remove(service: string): Promise<DeployResult> {
    return this.call('DELETE', `/services/${encodeURIComponent(service)}`);
  }

  /** Sets maintenance / pause for a service (an empty object turns both off). */
  setControls(service: string, controls: TrafficControls): Promise<TrafficControls> {
    return this.call('PUT', `/services/${encodeURIComponent(service)}/controls`, controls);
  }

  /** proxy:report: status, open client connections, every service with targets, health and connections. */
  report(): Promise<ProxyReport> {
    return this.call('GET', '/report');
  }

  /** Upgrade: the running proxy starts `req.main` as its successor on its sockets, then drains and exits. */
  handOver(req: HandoverRequest): Promise<{ pid: number }> {
    return this.call('POST', '/handover', req);
  }

  /** The request figures of every proxy worker, summed. */
  figures(): Promise<ProxyFigures> {
    return this.call('GET', '/figures');
  }

  /** One app's access log entries after `since` (epoch ms), oldest first, the last `limit`. */
  accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]> {
    return this.call('GET', `/access-log?app=${encodeURIComponent(app)}&since=${since}&limit=${limit}`);
  }

  list(): Promise<ServiceInfo[]> {
    return this.call('GET', '/services');
  }

  // TLS (tls-routes.ts): the whole certificate state, and ACME http-01 challenges
  setTls(state: TlsState): Promise<TlsReport> {
    return this.call('PUT', '/tls', state);
  }

  tls(): Promise<TlsReport> {
    return this.call('GET', '/tls');
  }

  setChallenge(token: string, keyAuthorization: string): Promise<unknown> {
    return this.call('PUT', `/acme-challenges/${encodeURIComponent(token)}`, { keyAuthorization });
  }

  removeChallenge(token: string): Promise<unknown> {
    return this.call('DELETE', `/acme-challenges/${encodeURIComponent(token)}`);
  }

  /** One control request; a proxy that just handed over answers 'handed over', and the request is sent again (its successor answers). */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.callOnce<T>(method, path, body);
      } catch (err) {
        // during a hand-over the old proxy answers 'handed over', and a connection it accepted as it
        // exited is reset unread: both reach the successor when sent again
        const e = err as { code?: string; cause?: { code?: string } };
        const retry = e.code === ProxyErrors.handedOver.code || e.cause?.code === 'ECONNRESET';
        if (!retry || attempt >= 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private callOnce<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', reject);
          res.once('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              return reject(ProxyErrors.internal(`proxy answered ${res.statusCode} with invalid JSON`));
            }
            const status = res.statusCode ?? 500;
            if (status >= 200 && status < 300) return resolve(json as T);
            const e = json as { code?: string; message?: string };
            reject(proxyErrorOf(e.code)(e.message ?? `proxy answered ${status}`));
          });
        },
      );
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(ProxyErrors.unreachable(`the proxy is not running (no answer on ${this.socketPath})`, err));
        } else reject(ProxyErrors.unreachable(`cannot talk to the proxy on ${this.socketPath}: ${err.message}`, err));
      });
      req.end(payload);
    });
  }
}
