import { type ProxyFigures, STATUS_CLASSES } from '../proxy/edge/request-figures.js';
import type { MetricsHistory } from './metrics-history.js';

export interface HistorySources {
  /** the proxy's cumulative request figures per app */
  figures(): Promise<ProxyFigures>;
  /** per app, its containers' cumulative CPU seconds and memory now */
  usage(): Promise<{ app: string; cpuSeconds: number; memoryBytes: number }[]>;
  /** cumulative container restarts per `app\0process` */
  restarts(): ReadonlyMap<string, number>;
  apps(): string[];
}

interface Previous {
  counts: number[];
  buckets: number[];
  cpu: number | null;
  restarts: number;
}

const CLASS_INDEX = [1, 2, 3, 4] as const; // 2xx, 3xx, 4xx, 5xx in STATUS_CLASSES

/**
 * Once a minute, turns the figures paas already keeps (the proxy's request counters and latency
 * histogram, the container sampler's CPU and memory, the restart counts) into one history point
 * per app: the deltas since the last tick. A counter that went backwards (a proxy worker or a
 * container came back) counts from zero.
 */
export class HistorySampler {
  private readonly prev = new Map<string, Previous>();

  constructor(
    private readonly sources: HistorySources,
    private readonly history: Pick<MetricsHistory, 'record' | 'retain'>,
    private readonly now: () => number = Date.now,
  ) {}

  async tick(): Promise<void> {
    const apps = new Set(this.sources.apps());
    const [figures, usage] = await Promise.all([this.sources.figures().catch(() => null), this.sources.usage().catch(() => null)]);
    const restarts = this.sources.restarts();
    const slot = Math.floor(this.now() / 60_000);
    this.history.retain(apps);
    for (const a of this.prev.keys()) if (!apps.has(a)) this.prev.delete(a);
    for (const app of apps) {
      const f = figures?.apps[app];
      const stride = STATUS_CLASSES.length;
      const counts = CLASS_INDEX.map((ci) => {
        if (!f) return 0;
        let n = 0;
        for (let m = 0; m * stride < f.requests.length; m++) n += f.requests[m * stride + ci] ?? 0;
        return n;
      });
      const buckets = f ? [...f.buckets] : [];
      const mine = usage?.filter((u) => u.app === app) ?? null;
      const cpu = mine === null ? null : mine.reduce((s, u) => s + u.cpuSeconds, 0);
      const memory = mine === null ? null : mine.reduce((s, u) => s + u.memoryBytes, 0);
      let restartTotal = 0;
      for (const [key, n] of restarts) if (key.startsWith(`${app}\0`)) restartTotal += n;
      const before = this.prev.get(app);
      this.prev.set(app, { counts, buckets, cpu, restarts: restartTotal });
      const delta = (cur: number, old: number | undefined) => (old === undefined || cur < old ? cur : cur - old);
      this.history.record(app, slot, {
        counts: before ? (counts.map((c, i) => delta(c, before.counts[i])) as [number, number, number, number]) : [0, 0, 0, 0],
        buckets: before ? buckets.map((b, i) => delta(b, before.buckets[i])) : buckets.map(() => 0),
        cpuSeconds: before && cpu !== null && before.cpu !== null ? delta(cpu, before.cpu) : null,
        memory,
        restarts: before ? delta(restartTotal, before.restarts) : 0,
      });
    }
  }
}
