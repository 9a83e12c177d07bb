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
