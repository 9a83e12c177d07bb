import {
  DURATION_BUCKETS,
  METHODS,
  type ProxyFigures,
  STATUS_CLASSES,
  TLS_PROTOCOLS,
  UPSTREAM_ERRORS,
} from '../proxy/edge/request-figures.js';

/** A metric as prom-client's `registry.getMetricsAsJSON()` gives it (what AggregatorRegistry.aggregate reads). */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

function metric(name: string, type: MetricJson['type'], help: string, values: MetricJson['values']): MetricJson {
  return { name, help, type, aggregator: 'sum', values };
}

/**
 * The proxy's summed request figures as prom-client metric objects, to be turned into Prometheus
 * text by prom-client (AggregatorRegistry.aggregate). `code` is the status class (2xx, 5xx, ...);
 * series that are still zero are left out, so an app shows only what it served.
 */
export function proxyMetricJson(f: ProxyFigures): MetricJson[] {
  const requests: MetricJson['values'] = [];
  const duration: MetricJson['values'] = [];
  const inFlight: MetricJson['values'] = [];
  const reqBytes: MetricJson['values'] = [];
  const resBytes: MetricJson['values'] = [];
  const upstream: MetricJson['values'] = [];
  for (const app of Object.keys(f.apps).sort()) {
    const a = f.apps[app];
    for (let m = 0; m < METHODS.length; m++)
      for (let c = 0; c < STATUS_CLASSES.length; c++) {
        const v = a.requests[m * STATUS_CLASSES.length + c];
        if (v > 0) requests.push({ value: v, labels: { app, method: METHODS[m], code: STATUS_CLASSES[c] } });
      }
    let cumulative = 0;
    for (let b = 0; b < DURATION_BUCKETS.length; b++) {
      cumulative += a.buckets[b];
      duration.push({
        value: cumulative,
        labels: { app, le: DURATION_BUCKETS[b] },
        metricName: 'paas_http_request_duration_seconds_bucket',
      });
    }
    cumulative += a.buckets[DURATION_BUCKETS.length];
    duration.push({ value: cumulative, labels: { app, le: '+Inf' }, metricName: 'paas_http_request_duration_seconds_bucket' });
    duration.push({ value: a.durationSum, labels: { app }, metricName: 'paas_http_request_duration_seconds_sum' });
    duration.push({ value: cumulative, labels: { app }, metricName: 'paas_http_request_duration_seconds_count' });
    inFlight.push({ value: a.inFlight, labels: { app } });
    reqBytes.push({ value: a.requestBytes, labels: { app } });
    resBytes.push({ value: a.responseBytes, labels: { app } });
    for (let r = 0; r < UPSTREAM_ERRORS.length; r++)
      if (a.upstreamErrors[r] > 0) upstream.push({ value: a.upstreamErrors[r], labels: { app, reason: UPSTREAM_ERRORS[r] } });
  }
  return [
    metric('paas_http_requests_total', 'counter', 'HTTP requests the proxy answered, by app, method and status class', requests),
    metric('paas_http_request_duration_seconds', 'histogram', 'Time from routing a request to the end of its response, by app', duration),
    metric('paas_http_in_flight_requests', 'gauge', 'Requests being answered now, by app', inFlight),
    metric(
      'paas_http_request_size_bytes_total',
      'counter',
      'Bytes received from clients (HTTP/1 requests, headers included), by app',
      reqBytes,
    ),
    metric(
      'paas_http_response_size_bytes_total',
      'counter',
      'Bytes sent to clients (HTTP/1 responses, headers included), by app',
      resBytes,
    ),
    metric('paas_upstream_errors_total', 'counter', 'Upstream exchanges that failed before answering, by app and reason', upstream),
    metric('paas_proxy_open_connections', 'gauge', 'Open client connections', [{ value: f.connections, labels: {} }]),
    metric(
      'paas_proxy_tls_handshakes_total',
      'counter',
      'TLS handshakes completed, by negotiated protocol',
      TLS_PROTOCOLS.map((p, i) => ({ value: f.tlsHandshakes[i] ?? 0, labels: { protocol: p } })),
    ),
    metric('paas_proxy_access_log_dropped_total', 'counter', 'Access log entries lost because a following reader was slow', [
      { value: f.accessLogDropped, labels: {} },
    ]),
    metric('paas_proxy_workers', 'gauge', 'Proxy processes whose figures are in this view', [{ value: f.workers, labels: {} }]),
  ];
}
