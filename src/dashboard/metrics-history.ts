import { quantile } from '../metrics/request-window.js';

/** One app's figures over one minute, as the sampler measured them (deltas of the cumulative counters). */
export interface MinuteSample {
  /** requests per status class over the minute: 2xx, 3xx, 4xx, 5xx */
  counts: [number, number, number, number];
  /** latency histogram deltas (the proxy's DURATION_BUCKETS, the last above 10 s) */
  buckets: number[];
  /** CPU seconds used over the minute by all the app's containers; null: unknown */
  cpuSeconds: number | null;
  /** memory of all the app's containers now; null: unknown */
  memory: number | null;
  restarts: number;
}

// columns of a ring: rps per class (4), p50, p95, p99, cpu cores, memory bytes, restarts
const COLS = 10;
const MINUTE = 60;
const TEN = 600;
const DAY_MINUTES = 1440;
const WEEK_TENS = 1008;

/** A fixed ring of points, one per slot (a minute or ten), each COLS float32 values (NaN: no value). */
class SeriesRing {
  readonly slots: Float64Array;
  readonly data: Float32Array;

  constructor(readonly capacity: number) {
    this.slots = new Float64Array(capacity).fill(-1);
    this.data = new Float32Array(capacity * COLS).fill(Number.NaN);
  }

  put(slot: number, values: readonly number[]): void {
    const i = slot % this.capacity;
    this.slots[i] = slot;
    for (let c = 0; c < COLS; c++) this.data[i * COLS + c] = values[c] ?? Number.NaN;
  }

  value(slot: number, col: number): number | null {
    const i = slot % this.capacity;
    if (this.slots[i] !== slot) return null;
    const v = this.data[i * COLS + col];
    // float32 storage: 7 significant digits is all it holds
    return Number.isNaN(v) ? null : Number(v.toPrecision(7));
  }

  toJSON(): { slots: number[]; data: (number | null)[] } {
    return { slots: Array.from(this.slots), data: Array.from(this.data, (v) => (Number.isNaN(v) ? null : v)) };
  }

  load(j: { slots?: unknown; data?: unknown }): void {
    if (!Array.isArray(j.slots) || !Array.isArray(j.data) || j.slots.length !== this.capacity || j.data.length !== this.capacity * COLS)
      return;
    j.slots.forEach((s, i) => {
      this.slots[i] = typeof s === 'number' ? s : -1;
    });
    j.data.forEach((v, i) => {
      this.data[i] = typeof v === 'number' ? v : Number.NaN;
    });
  }
}

interface Accumulator {
  slot: number;
  counts: number[];
  buckets: number[];
  cpu: number | null;
  memory: number | null;
  restarts: number;
  minutes: number;
}

interface AppSeries {
  minutes: SeriesRing;
  tens: SeriesRing;
  acc: Accumulator | null;
}

export interface OverviewSeries {
  t: number[];
  rps: (number | null)[];
  p95: (number | null)[];
  err5xx: (number | null)[];
  memory: (number | null)[];
}

export interface AppMetrics {
  step: number;
  t: number[];
  rps: Record<'2xx' | '3xx' | '4xx' | '5xx', (number | null)[]>;
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  cpu: (number | null)[];
  memory: (number | null)[];
  restarts: (number | null)[];
}

function valuesOf(
  counts: readonly number[],
  buckets: readonly number[],
  cpuSeconds: number | null,
  memory: number | null,
  restarts: number,
  seconds: number,
): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const q = (p: number) => (total > 0 ? (quantile(p, buckets) ?? Number.NaN) : Number.NaN);
  return [
    ...counts.map((c) => c / seconds),
    q(0.5),
    q(0.95),
    q(0.99),
    cpuSeconds === null ? Number.NaN : cpuSeconds / seconds,
    memory ?? Number.NaN,
    restarts,
  ];
}

/**
 * The dashboard's chart history: per app, one point a minute for the last day and one per ten
 * minutes for the last week, in fixed typed-array rings (about 100 KB an app, whatever the
 * traffic), fed once a minute by the HistorySampler and persisted as JSON between restarts.
 */
export class MetricsHistory {
  private readonly apps = new Map<string, AppSeries>();

  constructor(private readonly now: () => number = Date.now) {}

  record(app: string, minuteSlot: number, s: MinuteSample): void {
    const series = this.seriesOf(app);
    series.minutes.put(minuteSlot, valuesOf(s.counts, s.buckets, s.cpuSeconds, s.memory, s.restarts, MINUTE));
    const tenSlot = Math.floor(minuteSlot / 10);
    if (series.acc !== null && series.acc.slot !== tenSlot) this.flush(series);
    series.acc ??= {
      slot: tenSlot,
      counts: [0, 0, 0, 0],
      buckets: s.buckets.map(() => 0),
      cpu: null,
      memory: null,
      restarts: 0,
      minutes: 0,
    };
    const acc = series.acc;
    s.counts.forEach((c, i) => {
      acc.counts[i] += c;
    });
    s.buckets.forEach((b, i) => {
      acc.buckets[i] = (acc.buckets[i] ?? 0) + b;
    });
    if (s.cpuSeconds !== null) acc.cpu = (acc.cpu ?? 0) + s.cpuSeconds;
    if (s.memory !== null) acc.memory = Math.max(acc.memory ?? 0, s.memory);
    acc.restarts += s.restarts;
    acc.minutes++;
  }

  /** Drops the series of apps not in `apps` (destroyed apps). */
  retain(apps: ReadonlySet<string>): void {
    for (const a of this.apps.keys()) if (!apps.has(a)) this.apps.delete(a);
  }

  appCount(): number {
    return this.apps.size;
  }

  /** The overview's sparklines for `apps` over the last `rangeSeconds`. */
  overview(apps: readonly string[], rangeSeconds: number): { step: number; apps: Record<string, OverviewSeries> } {
    const { step, slots, ring } = this.window(rangeSeconds);
    const out: Record<string, OverviewSeries> = {};
    for (const app of apps) {
      const s = this.apps.get(app);
      const r = s ? ring(s) : null;
      const col = (c: number, scale = 1) =>
        slots.map((slot) => {
          const v = r?.value(slot, c) ?? null;
          return v === null ? null : v * scale;
        });
      const rps = slots.map((slot) => {
        let sum: number | null = null;
        for (let c = 0; c < 4; c++) {
          const v = r?.value(slot, c) ?? null;
          if (v !== null) sum = (sum ?? 0) + v;
        }
        return sum;
      });
      out[app] = { t: slots.map((x) => x * step), rps, p95: col(5), err5xx: col(3, step), memory: col(8) };
    }
    return { step, apps: out };
  }

  /** One app's charts over the last `rangeSeconds` (1h and 1d by minute, longer by ten minutes). */
  app(app: string, rangeSeconds: number): AppMetrics {
    const { step, slots, ring } = this.window(rangeSeconds);
    const s = this.apps.get(app);
    const r = s ? ring(s) : null;
    const col = (c: number) => slots.map((slot) => r?.value(slot, c) ?? null);
    return {
      step,
      t: slots.map((x) => x * step),
      rps: { '2xx': col(0), '3xx': col(1), '4xx': col(2), '5xx': col(3) },
      p50: col(4),
      p95: col(5),
      p99: col(6),
      cpu: col(7),
      memory: col(8),
      restarts: col(9),
    };
  }

  toJSON(): unknown {
    const apps: Record<string, unknown> = {};
    for (const [name, s] of this.apps) apps[name] = { minutes: s.minutes.toJSON(), tens: s.tens.toJSON(), acc: s.acc };
    return { version: 1, apps };
  }

  /** Restores what toJSON wrote (anything malformed is skipped). */
  load(json: unknown): void {
    const apps = (json as { version?: number; apps?: Record<string, { minutes?: object; tens?: object; acc?: Accumulator | null }> } | null)
      ?.apps;
    if (typeof apps !== 'object' || apps === null) return;
    for (const [name, j] of Object.entries(apps)) {
      if (typeof j !== 'object' || j === null) continue;
      const s = this.seriesOf(name);
      s.minutes.load((j.minutes ?? {}) as { slots?: unknown; data?: unknown });
      s.tens.load((j.tens ?? {}) as { slots?: unknown; data?: unknown });
      const acc = j.acc;
      if (acc && typeof acc.slot === 'number' && Array.isArray(acc.counts) && Array.isArray(acc.buckets)) s.acc = acc;
    }
  }

  private seriesOf(app: string): AppSeries {
    let s = this.apps.get(app);
    if (s === undefined) {
      s = { minutes: new SeriesRing(DAY_MINUTES), tens: new SeriesRing(WEEK_TENS), acc: null };
      this.apps.set(app, s);
    }
    return s;
  }

  private flush(s: AppSeries): void {
    const a = s.acc;
    if (a === null) return;
    s.tens.put(a.slot, valuesOf(a.counts, a.buckets, a.cpu, a.memory, a.restarts, a.minutes * MINUTE));
    s.acc = null;
  }

  /** The slots of a range ending now (the current ten-minute point is the accumulator so far). */
  private window(rangeSeconds: number): { step: number; slots: number[]; ring: (s: AppSeries) => SeriesRing } {
    const nowS = Math.floor(this.now() / 1000);
    const step = rangeSeconds > 86_400 ? TEN : MINUTE;
    const last = Math.floor(nowS / step);
    const n = Math.min(Math.ceil(rangeSeconds / step), step === MINUTE ? DAY_MINUTES : WEEK_TENS);
    const slots = Array.from({ length: n }, (_, i) => last - n + 1 + i);
    return {
      step,
      slots,
      ring: (s) => {
        if (step === TEN && s.acc !== null) {
          // the ten minutes in progress, as measured so far
          this.peek(s);
        }
        return step === MINUTE ? s.minutes : s.tens;
      },
    };
  }

  private peek(s: AppSeries): void {
    const a = s.acc!;
    s.tens.put(a.slot, valuesOf(a.counts, a.buckets, a.cpu, a.memory, a.restarts, Math.max(1, a.minutes) * MINUTE));
  }
}
