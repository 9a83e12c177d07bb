/**
 * The proxy's request figures as plain numbers: what each worker counts (request-metrics.ts), what
 * the primary sums over its workers and what the control plane renders as Prometheus metrics and
 * keeps a one-minute window of (ps:top). Labels are bounded: the app (a service name the control
 * plane chose), one of METHODS, one of STATUS_CLASSES, one of UPSTREAM_ERRORS.
 */

/** Methods counted by name; any other is `other`. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'] as const;
/** `code` label: the status class. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** `paas_http_request_duration_seconds` bucket bounds (seconds), +Inf implied. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** `reason` label of paas_upstream_errors_total. */
export const UPSTREAM_ERRORS = ['refused', 'timeout', 'reset', 'other'] as const;
/** TLS handshakes by negotiated protocol. */
export const TLS_PROTOCOLS = ['h1', 'h2'] as const;

/** One app's figures in one worker (or summed). Arrays are indexed by the constants above. */
export interface AppFigures {
  /** METHODS.length x STATUS_CLASSES.length, method-major */
  requests: number[];
  /** cumulative-free bucket counts: DURATION_BUCKETS.length + 1 (the last is above 10 s) */
  buckets: number[];
  durationSum: number;
  inFlight: number;
  requestBytes: number;
  responseBytes: number;
  upstreamErrors: number[];
}

export interface ProxyFigures {
  apps: Record<string, AppFigures>;
  /** open client connections */
  connections: number;
  tlsHandshakes: number[];
  /** access log entries overwritten before anyone read them */
  accessLogDropped: number;
  /** workers whose figures are in this sum */
  workers: number;
}

export function emptyAppFigures(): AppFigures {
  return {
    requests: new Array(METHODS.length * STATUS_CLASSES.length).fill(0),
    buckets: new Array(DURATION_BUCKETS.length + 1).fill(0),
    durationSum: 0,
    inFlight: 0,
    requestBytes: 0,
    responseBytes: 0,
    upstreamErrors: new Array(UPSTREAM_ERRORS.length).fill(0),
  };
}

export function emptyFigures(): ProxyFigures {
  return { apps: {}, connections: 0, tlsHandshakes: new Array(TLS_PROTOCOLS.length).fill(0), accessLogDropped: 0, workers: 0 };
}

function addInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i] += from[i] ?? 0;
}

/** Adds one worker's figures into `into` (the primary sums its workers this way). */
export function mergeFigures(into: ProxyFigures, from: ProxyFigures): ProxyFigures {
  for (const [app, f] of Object.entries(from.apps)) {
    const dst = into.apps[app] ?? emptyAppFigures();
    addInto(dst.requests, f.requests);
    addInto(dst.buckets, f.buckets);
    addInto(dst.upstreamErrors, f.upstreamErrors);
    dst.durationSum += f.durationSum;
    dst.inFlight += f.inFlight;
    dst.requestBytes += f.requestBytes;
    dst.responseBytes += f.responseBytes;
    into.apps[app] = dst;
  }
  into.connections += from.connections;
  addInto(into.tlsHandshakes, from.tlsHandshakes);
  into.accessLogDropped += from.accessLogDropped;
  into.workers += from.workers;
  return into;
}

/** Requests of an app over all methods and classes. */
export function requestCount(f: AppFigures): number {
  let n = 0;
  for (const v of f.requests) n += v;
  return n;
}

/** Requests of an app answered with a 5xx. */
export function serverErrorCount(f: AppFigures): number {
  const c = STATUS_CLASSES.indexOf('5xx');
  let n = 0;
  for (let m = 0; m < METHODS.length; m++) n += f.requests[m * STATUS_CLASSES.length + c];
  return n;
}

/** One access log line, as `logs APP --proxy` prints it. */
export interface AccessEntry {
  /** epoch ms the request ended */
  time: number;
  app: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** response bytes */
  bytes: number;
  /** the client's address, after trusted proxies */
  client: string;
  requestId: string;
}
