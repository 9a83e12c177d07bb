import type { ChallengeMap } from '../edge/acme-challenges.js';
import type { RouteTable } from '../routing/route-table.js';
import type { BoundPorts } from './listen-sockets.js';
import type { TlsState } from '../tls/tls-state.js';

/** IPC between the proxy primary and its cluster workers. */
export type PrimaryMessage =
  | { kind: 'paas-proxy'; id: number; op: 'apply'; table: RouteTable; listen?: BoundPorts }
  // a client connection accepted by the primary, sent with the socket (no reply)
  | { kind: 'paas-proxy'; id: number; op: 'conn'; tls: boolean }
  | { kind: 'paas-proxy'; id: number; op: 'drain'; service: string; addresses: string[]; timeoutMs: number }
  | { kind: 'paas-proxy'; id: number; op: 'stats' }
  // request metrics (request-figures.ts) and one app's access log entries after `since`
  | { kind: 'paas-proxy'; id: number; op: 'figures' }
  | { kind: 'paas-proxy'; id: number; op: 'access-log'; app: string; since: number; limit: number }
  | { kind: 'paas-proxy'; id: number; op: 'shutdown'; graceMs: number }
  // TLS: the whole certificate state, and the pending ACME challenges
  | { kind: 'paas-proxy'; id: number; op: 'tls'; state: TlsState }
  | { kind: 'paas-proxy'; id: number; op: 'challenges'; challenges: ChallengeMap };

export type WorkerMessage =
  | { kind: 'paas-proxy'; op: 'hello' }
  | { kind: 'paas-proxy'; op: 'ready'; http: number; https: number }
  | { kind: 'paas-proxy'; op: 'target-down'; service: string; address: string }
  | { kind: 'paas-proxy'; op: 'reply'; id: number; result?: unknown; error?: string };

export function isProxyMessage(m: unknown): m is { kind: 'paas-proxy' } {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'paas-proxy';
}
