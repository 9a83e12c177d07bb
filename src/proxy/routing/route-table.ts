/** The part of the state every worker needs to route: host names and target addresses per service. */
export interface RouteEntry {
  name: string;
  hosts: string[];
  targets: string[];
  /** targets out of rotation after refused connections, until a probe finds them answering */
  down?: string[];
  /** max request body in bytes; absent: the proxy's default */
  maxBodyBytes?: number;
  /** ps:maintenance message; absent: serving */
  maintenance?: string;
  /** ps:pause deadline (epoch ms); absent: not paused */
  pausedUntil?: number;
}

export interface RouteTable {
  version: number;
  services: RouteEntry[];
}

/** In-flight request counts a worker reports: service -> target address -> count. */
export type InflightStats = Record<string, Record<string, number>>;

export function mergeInflight(into: InflightStats, from: InflightStats): InflightStats {
  for (const [svc, targets] of Object.entries(from)) {
    if (into[svc] === undefined) into[svc] = {};
    const dst = into[svc];
    for (const [addr, n] of Object.entries(targets)) dst[addr] = (dst[addr] ?? 0) + n;
  }
  return into;
}

/** What a worker reports for proxy:report: in-flight requests, open client connections, upstream connections per target address. */
export interface WorkerStats {
  inflight: InflightStats;
  clients: number;
  upstream: Record<string, { active: number; idle: number }>;
}

export function emptyStats(): WorkerStats {
  return { inflight: {}, clients: 0, upstream: {} };
}

export function mergeStats(into: WorkerStats, from: WorkerStats): WorkerStats {
  mergeInflight(into.inflight, from.inflight);
  into.clients += from.clients;
  for (const [addr, c] of Object.entries(from.upstream)) {
    const dst = into.upstream[addr] ?? { active: 0, idle: 0 };
    dst.active += c.active;
    dst.idle += c.idle;
    into.upstream[addr] = dst;
  }
  return into;
}
