import type { ChallengeMap } from '../edge/acme-challenges.js';
import type { BoundPorts, ListenSockets } from './listen-sockets.js';
import type { TargetDownListener } from '../edge/proxy-context.js';

import type { RouteTable, WorkerStats } from '../routing/route-table.js';
import type { TlsState } from '../tls/tls-state.js';
import { type AccessEntry, emptyFigures, mergeFigures, type ProxyFigures } from '../edge/request-figures.js';

/** What a drain did: requests finished, requests cut at the deadline, websockets closed. */
export interface DrainResult {
  drained: number;
  expired: number;
  websockets: number;
}

/**
 * The primary's view of the processes that carry traffic: one in-process worker or a cluster.
 * Every call resolves once all live workers have done it.
 */
export interface WorkerPool {
  /** starts the workers with `table` already applied, then listens (on `inherited` sockets when handed over) */
  start(table: RouteTable, inherited?: ListenSockets): Promise<BoundPorts>;
  /** the listening sockets, to hand to a successor on upgrade; null when not listening */
  listenSockets(): ListenSockets | null;
  apply(table: RouteTable): Promise<void>;
  drain(service: string, addresses: readonly string[], timeoutMs: number): Promise<DrainResult>;
  stats(): Promise<WorkerStats>;
  /** the request figures of every worker, summed (request-figures.ts) */
  figures(): Promise<ProxyFigures>;
  /** one app's access log entries after `since` (epoch ms) from every worker, oldest first, the last `limit` */
  accessLog(app: string, since: number, limit: number): Promise<AccessEntry[]>;
  close(graceMs: number): Promise<void>;
  /** registers who is told when a worker takes a target out of rotation (refused connections) */
  onTargetDown(listener: TargetDownListener): void;
  /** TLS: swaps every worker's certificates (no restart, no dropped connection) */
  applyTls(state: TlsState): Promise<void>;
  applyChallenges(challenges: ChallengeMap): Promise<void>;
}

export function sumDrain(results: DrainResult[]): DrainResult {
  const out: DrainResult = { drained: 0, expired: 0, websockets: 0 };
  for (const r of results) {
    out.drained += r.drained;
    out.expired += r.expired;
    out.websockets += r.websockets;
  }
  return out;
}

/** Sums the workers' figures (a worker with metrics off answers null). */
export function sumFigures(results: ReadonlyArray<ProxyFigures | null | undefined>): ProxyFigures {
  const out = emptyFigures();
  for (const r of results) if (r) mergeFigures(out, r);
  return out;
}

/** Merges the workers' access log entries by time and keeps the last `limit`. */
export function mergeAccessLogs(results: ReadonlyArray<AccessEntry[] | null | undefined>, limit: number): AccessEntry[] {
  const all = results.flatMap((r) => r ?? []).sort((a, b) => a.time - b.time);
  return all.length > limit ? all.slice(all.length - limit) : all;
}
