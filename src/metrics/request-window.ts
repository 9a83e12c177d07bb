import { type AppFigures, DURATION_BUCKETS, type ProxyFigures, requestCount, serverErrorCount } from '../proxy/edge/request-figures.js';

/** One app's traffic over the window: req/s, p95 latency, 5xx count. */
export interface AppTraffic {
  requestsPerSecond: number;
  /** seconds, interpolated in the histogram bucket as Prometheus' histogram_quantile does; null without requests */
  p95Seconds: number | null;
  serverErrors: number;
  requests: number;
}

interface Point {
  at: number;
  apps: Record<string, { requests: number; errors: number; buckets: number[] }>;
}

function pointOf(at: number, f: ProxyFigures): Point {
  const apps: Point['apps'] = {};
  for (const [app, a] of Object.entries(f.apps))
    apps[app] = { requests: requestCount(a), errors: serverErrorCount(a), buckets: [...a.buckets] };
  return { at, apps };
}

/** The q-quantile of bucket counts (non-cumulative, the last above the highest bound). */
export function quantile(q: number, buckets: readonly number[]): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (seen + buckets[i] >= rank && buckets[i] > 0) {
      if (i === DURATION_BUCKETS.length) return DURATION_BUCKETS[DURATION_BUCKETS.length - 1];
      const lower = i === 0 ? 0 : DURATION_BUCKETS[i - 1];
      const upper = DURATION_BUCKETS[i];
      return lower + (upper - lower) * ((rank - seen) / buckets[i]);
    }
    seen += buckets[i];
  }
  return DURATION_BUCKETS[DURATION_BUCKETS.length - 1];
}

/**
 * The last minute of the proxy's request figures, for ps:top: points taken every `stepMs` (the
 * control plane asks the proxy on a slow timer), and the traffic between now and the point about
 * a minute back (the oldest one there is while the control plane is younger than that).
 */
export class RequestWindow {
  private readonly points: Point[] = [];

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the proxy's figures as of now. */
  add(f: ProxyFigures): void {
    const at = this.now();
    this.points.push(pointOf(at, f));
    // keep one point at or beyond the window's start
    while (this.points.length > 2 && this.points[1].at <= at - this.windowMs) this.points.shift();
  }

  /** Traffic per app between the window's oldest point and `current` (read just now); seconds covered. */
  traffic(current: ProxyFigures): { seconds: number; apps: Record<string, AppTraffic> } {
    const at = this.now();
    const base = this.points.find((p) => p.at >= at - this.windowMs - 1000) ?? this.points[0];
    const seconds = base === undefined ? 0 : (at - base.at) / 1000;
    const apps: Record<string, AppTraffic> = {};
    for (const [app, a] of Object.entries(current.apps) as Array<[string, AppFigures]>) {
      const before = base?.apps[app] ?? { requests: 0, errors: 0, buckets: a.buckets.map(() => 0) };
      // a proxy worker that died and came back counts from zero again: never a negative delta
      const requests = base === undefined ? 0 : Math.max(0, requestCount(a) - before.requests);
      const buckets = a.buckets.map((v, i) => Math.max(0, v - (base === undefined ? v : (before.buckets[i] ?? 0))));
      apps[app] = {
        requests,
        requestsPerSecond: seconds > 0 ? requests / seconds : 0,
        p95Seconds: quantile(0.95, buckets),
        serverErrors: base === undefined ? 0 : Math.max(0, serverErrorCount(a) - before.errors),
      };
    }
    return { seconds, apps };
  }
}
