import type { RouteTable } from './route-table.js';
import { normalizeHost } from './service-spec.js';
import { Service } from './service.js';
import type { Target } from './target.js';

/** The most Host values kept in the alias cache below. */
const MAX_ALIASES = 256;

interface RetiredTargets {
  service: string;
  targets: Target[];
}

/** Host header -> service. Applying a route table is synchronous, so a swap is atomic for requests. */
export class Router {
  private byHost = new Map<string, Service>();
  /**
   * Host values that route only once normalized (`app.example.com:8080`, another case), as the
   * service they matched: the lowercasing and port cut once per value, not per request. Dropped
   * with every route table.
   */
  private aliases = new Map<string, Service>();
  readonly services = new Map<string, Service>();
  version = -1;
  /** the body limit of services without their own (--proxy-max-body-size / PAAS_PROXY_BODY_LIMIT) */
  private readonly defaultBodyLimit: number;

  constructor(defaultBodyLimit = Number.MAX_SAFE_INTEGER) {
    this.defaultBodyLimit = defaultBodyLimit;
  }

  /** Finds the service for a raw Host header value (any case, with or without a port). */
  match(host: string | undefined): Service | undefined {
    if (host === undefined) return undefined;
    const svc = this.byHost.get(host) ?? this.aliases.get(host);
    if (svc !== undefined) return svc;
    const found = this.byHost.get(normalizeHost(host));
    if (found !== undefined) {
      // a flood of variants (ports, cases) of a routed name starts the cache over, never grows it past the bound
      if (this.aliases.size >= MAX_ALIASES) this.aliases.clear();
      this.aliases.set(host, found);
    }
    return found;
  }

  /** Makes the router serve `table`; returns the targets each service no longer uses. */
  apply(table: RouteTable): RetiredTargets[] {
    const retired: RetiredTargets[] = [];
    const byHost = new Map<string, Service>();
    const seen = new Set<string>();
    for (const entry of table.services) {
      seen.add(entry.name);
      let svc = this.services.get(entry.name);
      if (!svc) {
        svc = new Service(entry.name);
        this.services.set(entry.name, svc);
      }
      svc.hosts = entry.hosts;
      svc.bodyLimit = entry.maxBodyBytes ?? this.defaultBodyLimit;
      svc.maintenance = entry.maintenance ?? null;
      svc.pause.set(entry.pausedUntil ?? 0);
      const removed = svc.setTargets(entry.targets, entry.down);
      if (removed.length > 0) retired.push({ service: entry.name, targets: removed });
      for (const h of entry.hosts) byHost.set(h, svc);
    }
    for (const [name, svc] of this.services) {
      if (seen.has(name)) continue;
      this.services.delete(name);
      svc.pause.set(0);
      const removed = svc.setTargets([]);
      if (removed.length > 0) retired.push({ service: name, targets: removed });
    }
    this.byHost = byHost;
    this.aliases = new Map();
    this.version = table.version;
    return retired;
  }

  /** True when some live service still routes to this origin. */
  usesOrigin(origin: string): boolean {
    for (const svc of this.services.values()) {
      for (const t of svc.targets.values()) if (t.origin === origin) return true;
    }
    return false;
  }
}
