import type { ChallengeMap } from './acme-challenges.js';
import type { TargetDownListener } from './proxy-context.js';
import { ProxyWorker, type DrainResult, type ProxyWorkerOptions } from './proxy-worker.js';
import type { RouteTable, WorkerStats } from './route-table.js';
import type { TlsState } from './tls-state.js';
import type { BoundPorts, WorkerPool } from './worker-pool.js';

/** A single worker living in the primary's process: no IPC, the cheapest setup for one core. */
export class LocalWorkers implements WorkerPool {
  readonly worker: ProxyWorker;

  constructor(opts: ProxyWorkerOptions) {
    this.worker = new ProxyWorker(opts);
  }

  async start(table: RouteTable): Promise<BoundPorts> {
    this.worker.apply(table);
    return this.worker.listen();
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

  close(graceMs: number): Promise<void> {
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
