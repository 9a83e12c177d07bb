import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry } from 'prom-client';
import { proxyMetricJson } from '../../../src/metrics/proxy-metric-json.js';
import { emptyAppFigures, emptyFigures, STATUS_CLASSES } from '../../../src/proxy/edge/request-figures.js';

test('proxy figures render as Prometheus text through prom-client, zero series left out', async () => {
  const f = emptyFigures();
  const a = emptyAppFigures();
  a.requests[0 * STATUS_CLASSES.length + 1] = 7; // GET 2xx
  a.requests[2 * STATUS_CLASSES.length + 4] = 2; // POST 5xx
  a.buckets[0] = 6;
  a.buckets[11] = 3;
  a.durationSum = 31.5;
  a.inFlight = 1;
  f.apps.shop = a;
  f.workers = 2;
  f.tlsHandshakes = [4, 1];
  const text = await AggregatorRegistry.aggregate([proxyMetricJson(f)]).metrics();
  assert.match(text, /^paas_http_requests_total\{app="shop",method="GET",code="2xx"\} 7$/m);
  assert.match(text, /^paas_http_requests_total\{app="shop",method="POST",code="5xx"\} 2$/m);
  assert.doesNotMatch(text, /method="PUT"/);
  assert.match(text, /^paas_http_request_duration_seconds_bucket\{app="shop",le="0.005"\} 6$/m);
  assert.match(text, /^paas_http_request_duration_seconds_bucket\{app="shop",le="10"\} 6$/m);
  assert.match(text, /^paas_http_request_duration_seconds_bucket\{app="shop",le="\+Inf"\} 9$/m);
  assert.match(text, /^paas_http_request_duration_seconds_count\{app="shop"\} 9$/m);
  assert.match(text, /^paas_http_request_duration_seconds_sum\{app="shop"\} 31.5$/m);
  assert.match(text, /^paas_http_in_flight_requests\{app="shop"\} 1$/m);
  assert.match(text, /^paas_proxy_tls_handshakes_total\{protocol="h2"\} 1$/m);
  assert.match(text, /^# TYPE paas_http_request_duration_seconds histogram$/m);
});
