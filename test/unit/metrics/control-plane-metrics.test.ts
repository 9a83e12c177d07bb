import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerEventCounts, type ContainerEventSource } from '../../../src/metrics/container-events.js';
import type { ContainerSampler, ProcessUsage } from '../../../src/metrics/container-sampler.js';
import { controlPlaneRegistry } from '../../../src/metrics/control-plane-metrics.js';
import { DeployOutcomes, type DeployRecord } from '../../../src/metrics/deploy-outcomes.js';

/** The value of the sample `series` (name with its labels, as rendered) in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A fake engine event stream: `emit` sends one event; events paas caused itself are those `own` names. */
function eventSource(own: Set<string>): ContainerEventSource & { emit(action: string, app: string, process: string, id?: string): void } {
  let listener: Parameters<ContainerEventSource['events']>[0] = () => {};
  return {
    events(onEvent) {
      listener = onEvent;
    },
    isOwnEvent: (e) => own.has(e.id),
    emit(action, app, process, id = 'c1') {
      listener({ action, app, process, id, time: Date.now() });
    },
  };
}

function setup() {
  const deploys: DeployRecord[] = [];
  const certificates: Array<{ names: string[]; notAfter: string }> = [];
  const backups: Array<{ type: string; name: string; last: { at: string; ok: boolean } | null }> = [];
  const usage: ProcessUsage[] = [];
  const builds = { running: 0, queued: 0 };
  const events = new ContainerEventCounts((app) => app !== 'other-server-app');
  const source = eventSource(new Set(['stopped-by-paas']));
  events.start(source, new AbortController().signal);
  const registry = controlPlaneRegistry({
    version: '9.9.9-test',
    deploys: new DeployOutcomes({
      after: (id) => deploys.filter((d) => d.id > id),
      timings: (_app, release) => (release === 1 ? { build: 4000, release: 500 } : undefined),
    }),
    builds: () => builds,
    certificates: () => certificates,
    backups: () => backups,
    events,
    sampler: { byProcess: () => usage } as unknown as ContainerSampler,
  });
  return { registry, deploys, certificates, backups, usage, builds, source };
}

test('build info, deploys by app and result with stage durations, and the build queue, read at scrape time', async () => {
  const s = setup();
  let text = await s.registry.metrics();
  assert.equal(sample(text, 'paas_build_info{version="9.9.9-test"}'), 1);
  assert.equal(sample(text, 'paas_build_queue_length'), 0);
  s.deploys.push({ id: 1, app: 'web', status: 'succeeded', release: 1 }, { id: 2, app: 'web', status: 'failed', release: null });
  s.deploys.push({ id: 3, app: 'api', status: 'running', release: null });
  Object.assign(s.builds, { running: 1, queued: 2 });
  text = await s.registry.metrics();
  assert.equal(sample(text, 'paas_deploys_total{app="web",result="succeeded"}'), 1);
  assert.equal(sample(text, 'paas_deploys_total{app="web",result="failed"}'), 1);
  assert.equal(sample(text, 'paas_deploys_total{app="api",result="succeeded"}'), undefined, 'a running deploy is not counted yet');
  assert.equal(sample(text, 'paas_deploy_stage_duration_seconds_sum{stage="build"}'), 4);
  assert.equal(sample(text, 'paas_deploy_stage_duration_seconds_bucket{le="5",stage="build"}'), 1);
  assert.equal(sample(text, 'paas_deploy_stage_duration_seconds_count{stage="release"}'), 1);
  assert.equal(sample(text, 'paas_builds_running'), 1);
  assert.equal(sample(text, 'paas_build_queue_length'), 2);
  // the running one finishes: counted once, at the next scrape, and never again
  s.deploys[2].status = 'succeeded';
  await s.registry.metrics();
  text = await s.registry.metrics();
  assert.equal(sample(text, 'paas_deploys_total{app="api",result="succeeded"}'), 1);
  assert.equal(sample(text, 'paas_deploys_total{app="web",result="succeeded"}'), 1);
});

test("restarts and OOM kills by app and process type: not the containers paas stopped, not another server's apps", async () => {
  const s = setup();
  s.source.emit('die', 'web', 'worker');
  s.source.emit('oom', 'web', 'worker');
  s.source.emit('die', 'web', 'worker');
  s.source.emit('die', 'web', 'web', 'stopped-by-paas');
  s.source.emit('die', 'other-server-app', 'web');
  s.source.emit('start', 'web', 'web');
  const text = await s.registry.metrics();
  assert.equal(sample(text, 'paas_container_restarts_total{app="web",process="worker"}'), 2);
  assert.equal(sample(text, 'paas_container_oom_kills_total{app="web",process="worker"}'), 1);
  assert.equal(sample(text, 'paas_container_restarts_total{app="web",process="web"}'), undefined);
  assert.doesNotMatch(text, /other-server-app/);
});

test('certificate expiry per host (the latest of the certificates covering it), junk dates left out', async () => {
  const s = setup();
  s.certificates.push(
    { names: ['a.example', 'b.example'], notAfter: '2027-01-01T00:00:00Z' },
    { names: ['a.example'], notAfter: '2027-03-01T00:00:00Z' },
    { names: ['c.example'], notAfter: 'not a date' },
  );
  let text = await s.registry.metrics();
  assert.equal(sample(text, 'paas_tls_certificate_not_after{host="a.example"}'), Date.parse('2027-03-01T00:00:00Z') / 1000);
  assert.equal(sample(text, 'paas_tls_certificate_not_after{host="b.example"}'), Date.parse('2027-01-01T00:00:00Z') / 1000);
  assert.doesNotMatch(text, /c\.example/);
  // a removed certificate leaves the figures
  s.certificates.splice(0, 1);
  text = await s.registry.metrics();
  assert.doesNotMatch(text, /b\.example/);
});

test('the last successful add-on backup: a failed one after it keeps the earlier success; never backed up, no series', async () => {
  const s = setup();
  s.backups.push(
    { type: 'postgres', name: 'db1', last: { at: '2026-12-01T10:00:00Z', ok: true } },
    { type: 'redis', name: 'cache', last: null },
  );
  let text = await s.registry.metrics();
  const at = Date.parse('2026-12-01T10:00:00Z') / 1000;
  assert.equal(sample(text, 'paas_addon_backup_last_success_timestamp_seconds{type="postgres",addon="db1"}'), at);
  assert.doesNotMatch(text, /addon="cache"/);
  s.backups[0].last = { at: '2026-12-02T10:00:00Z', ok: false };
  text = await s.registry.metrics();
  assert.equal(sample(text, 'paas_addon_backup_last_success_timestamp_seconds{type="postgres",addon="db1"}'), at);
});

test('container figures per app and process type from the latest reading; a process gone leaves no series', async () => {
  const s = setup();
  s.usage.push({
    app: 'web',
    process: 'web',
    replicas: 2,
    cpuSeconds: 12.5,
    cpuPercent: 3,
    memoryBytes: 50e6,
    memoryLimitBytes: 256e6,
    networkRxBytes: 1000,
    networkTxBytes: 2000,
    networkRxRate: null,
    networkTxRate: null,
  });
  let text = await s.registry.metrics();
  const l = '{app="web",process="web"}';
  assert.equal(sample(text, `paas_container_replicas${l}`), 2);
  assert.equal(sample(text, `paas_container_cpu_seconds_total${l}`), 12.5);
  assert.equal(sample(text, `paas_container_memory_working_set_bytes${l}`), 50e6);
  assert.equal(sample(text, `paas_container_memory_limit_bytes${l}`), 256e6);
  assert.equal(sample(text, `paas_container_network_receive_bytes_total${l}`), 1000);
  assert.equal(sample(text, `paas_container_network_transmit_bytes_total${l}`), 2000);
  s.usage.length = 0;
  text = await s.registry.metrics();
  assert.equal(sample(text, `paas_container_replicas${l}`), undefined);
});
