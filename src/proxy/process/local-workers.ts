import type { ChallengeMap } from '../edge/acme-challenges.js';
import { acceptFrom, closeListenSockets, type ListenSockets, portsOf } from './listen-sockets.js';
import type { TargetDownListener } from '../edge/proxy-context.js';
import { ProxyWorker, type ProxyWorkerOptions } from './proxy-worker.js';
import type { RouteTable, WorkerStats } from '../routing/route-table.js';
import type { TlsState } from '../tls/tls-state.js';
import type { BoundPorts } from './listen-sockets.js';
import { type DrainResult, sumFigures, type WorkerPool } from './worker-pool.js';
import type { AccessEntry, ProxyFigures } from '../edge/request-figures.js';

/** A single worker living in the primary's process: no IPC, the cheapest setup for one core. */
export class LocalWorkers implements WorkerPool {
  readonly worker: ProxyWorker;

  constructor(opts: ProxyWorkerOptions) {
    this.worker = new ProxyWorker(opts);
  }

  private inherited: ListenSockets | null = null;

  /** Binds the ports itself, or serves `inherited` sockets (handed over by a previous proxy). */
  async start(table: RouteTable, inherited?: ListenSockets): Promise<BoundPorts> {
    this.worker.apply(table);
    if (!inherited) return this.worker.listen();
    this.inherited = inherited;
    const ports = await this.worker.listen(portsOf(inherited));
    acceptFrom(inherited, (socket, tls) => this.worker.accept(socket, tls));
    return ports;
  }

  listenSockets(): ListenSockets | null {
    if (this.inherited) return this.inherited;
    const b = this.worker.boundServers();
    return b.http ? { http: b.http, https: b.https } : null;
  }

  async apply(table: RouteTable): Promise<void> {
    this.worker.apply(table);
  }

  drain(service: string, addresses: readonly string[], timeoutMs: number): Promise<DrainResult> {
    return this.worker.drain(service, addresses, timeoutMs);
  }

  async stats(): Promise<WorkerStats> {
    return this.worker.stats();
  }

  async figures(): Promise<ProxyFigures> {
    return sumFigures([this.worker.figures()]);
  }

  async accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]> {
    return this.worker.accessLog(app, since, limit);
  }

  async close(graceMs: number): Promise<void> {
    if (this.inherited) await closeListenSockets(this.inherited);
    return this.worker.close(graceMs);
  }

  onTargetDown(listener: TargetDownListener): void {
    this.worker.onTargetDown = listener;
  }

  async applyTls(state: TlsState): Promise<void> {
    this.worker.applyTls(state);
  }

  async applyChallenges(challenges: ChallengeMap): Promise<void> {
    this.worker.applyChallenges(challenges);
  }
}
