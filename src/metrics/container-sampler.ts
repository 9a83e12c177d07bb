import type { ContainerUsage } from '../runtime/container-usage.js';

/** A running container of an app, as the sampler needs it. */
export interface SampledContainer {
  id: string;
  app: string;
  process: string;
}

/** Where the sampler reads: the running app containers, and one reading of one of them. */
export interface UsageSource {
  running(): Promise<SampledContainer[]>;
  usage(id: string): Promise<ContainerUsage>;
}

interface Sample {
  at: number;
  readings: Map<string, { c: SampledContainer; u: ContainerUsage }>;
}

/** Usage of one app's process type, summed over its running replicas. */
export interface ProcessUsage {
  app: string;
  process: string;
  replicas: number;
  cpuSeconds: number;
  /** over the time between the last two readings; 100 = one core; null without two readings */
  cpuPercent: number | null;
  memoryBytes: number;
  memoryLimitBytes: number;
  networkRxBytes: number;
  networkTxBytes: number;
  /** bytes per second between the last two readings; null without two readings */
  networkRxRate: number | null;
  networkTxRate: number | null;
}

export interface SamplerOptions {
  /** a reading younger than this is served from the cache (default 5 s) */
  maxAgeMs?: number;
  /**
   * readings asked of the engine at once (default 32): dockerd 20.10 answers a one-shot reading at
   * once when it is the only one, else on its next 1 s collection tick, the same tick for all
   */
  concurrency?: number;
  now?: () => number;
}

/**
 * Container figures sampled on demand, never streamed: a scrape or ps:top asks, and every running
 * app container is read once (one-shot stats, all at once); a reading younger than `maxAgeMs`
 * is served again, and callers arriving while one is taken share it. Rates (CPU %, network bytes
 * per second) come from the last two readings.
 */
export class ContainerSampler {
  private readonly source: UsageSource;
  private readonly maxAgeMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private last: Sample | null = null;
  private previous: Sample | null = null;
  private taking: Promise<Sample> | null = null;

  constructor(source: UsageSource, opts: SamplerOptions = {}) {
    this.source = source;
    this.maxAgeMs = opts.maxAgeMs ?? 5000;
    this.concurrency = opts.concurrency ?? 32;
    this.now = opts.now ?? Date.now;
  }

  /** The latest reading, taken now unless one younger than maxAgeMs exists. */
  async sample(): Promise<void> {
    if (this.last !== null && this.now() - this.last.at < this.maxAgeMs) return;
    await this.take();
  }

  /** Makes sure two readings at least `gapMs` apart exist (ps:top's first CPU %). */
  async withRates(gapMs = 1000): Promise<void> {
    await this.sample();
    if (this.previous === null || this.now() - this.previous.at > 60_000) {
      const wait = gapMs - (this.now() - (this.last?.at ?? 0));
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await this.take();
    }
  }

  private take(): Promise<Sample> {
    this.taking ??= this.read().finally(() => {
      this.taking = null;
    });
    return this.taking;
  }

  private async read(): Promise<Sample> {
    const containers = await this.source.running();
    const readings = new Map<string, { c: SampledContainer; u: ContainerUsage }>();
    let next = 0;
    const lane = async () => {
      while (next < containers.length) {
        const c = containers[next++];
        // a container gone between the list and its reading is simply not in this sample
        const u = await this.source.usage(c.id).catch(() => null);
        if (u !== null) readings.set(c.id, { c, u });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, containers.length) }, lane));
    const sample = { at: this.now(), readings };
    if (this.last !== null) this.previous = this.last;
    this.last = sample;
    return sample;
  }

  /** Per app and process type, from the latest reading (empty before the first). */
  byProcess(app?: string): ProcessUsage[] {
    const out = new Map<string, ProcessUsage>();
    const last = this.last;
    if (last === null) return [];
    const prev = this.previous;
    const secs = prev === null ? 0 : (last.at - prev.at) / 1000;
    for (const { c, u } of last.readings.values()) {
      if (app !== undefined && c.app !== app) continue;
      const key = `${c.app}\0${c.process}`;
      let p = out.get(key);
      if (p === undefined) {
        p = {
          app: c.app,
          process: c.process,
          replicas: 0,
          cpuSeconds: 0,
          cpuPercent: secs > 0 ? 0 : null,
          memoryBytes: 0,
          memoryLimitBytes: 0,
          networkRxBytes: 0,
          networkTxBytes: 0,
          networkRxRate: secs > 0 ? 0 : null,
          networkTxRate: secs > 0 ? 0 : null,
        };
        out.set(key, p);
      }
      p.replicas++;
      p.cpuSeconds += u.cpuSeconds;
      p.memoryBytes += u.memoryBytes;
      p.memoryLimitBytes += u.memoryLimitBytes;
      p.networkRxBytes += u.networkRxBytes;
      p.networkTxBytes += u.networkTxBytes;
      const before = prev?.readings.get(c.id)?.u;
      if (secs > 0 && before !== undefined) {
        p.cpuPercent = (p.cpuPercent ?? 0) + (Math.max(0, u.cpuSeconds - before.cpuSeconds) / secs) * 100;
        p.networkRxRate = (p.networkRxRate ?? 0) + Math.max(0, u.networkRxBytes - before.networkRxBytes) / secs;
        p.networkTxRate = (p.networkTxRate ?? 0) + Math.max(0, u.networkTxBytes - before.networkTxBytes) / secs;
      }
    }
    return [...out.values()].sort((a, b) => (a.app === b.app ? a.process.localeCompare(b.process) : a.app.localeCompare(b.app)));
  }
}
