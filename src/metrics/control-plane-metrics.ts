import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type ContainerEventCounts, processLabels } from './container-events.js';
import type { ContainerSampler, ProcessUsage } from './container-sampler.js';
import type { DeployOutcomes } from './deploy-outcomes.js';

/** What the control plane's figures are read from, each at scrape time. */
export interface ControlPlaneSources {
  version: string;
  deploys: DeployOutcomes;
  builds(): { running: number; queued: number };
  /** stored certificates: the names each covers and its expiry (ISO) */
  certificates(): Array<{ names: string[]; notAfter: string }>;
  /** add-ons and their last backup (ISO time, whether it worked) */
  backups(): Array<{ type: string; name: string; last: { at: string; ok: boolean } | null }>;
  events: ContainerEventCounts;
  sampler: ContainerSampler;
}

const STAGE_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The control plane's own metrics in one prom-client registry, made once in the composition root:
 * everything is read when Prometheus scrapes (collect), nothing is counted on a deploy's path.
 */
export function controlPlaneRegistry(src: ControlPlaneSources): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({ name: 'paas_build_info', help: 'paas version running the control plane', labelNames: ['version'], registers }).set(
    { version: src.version },
    1,
  );
  // registered after the deploys counter, whose collect() observes into it: a registry renders
  // in order, so a deploy's stages are in the same scrape as the deploy (not one scrape later)
  const stageDuration = new Histogram({
    name: 'paas_deploy_stage_duration_seconds',
    help: 'Time each deploy stage took (build, release, health check, ...)',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [],
  });
  new Counter({
    name: 'paas_deploys_total',
    help: 'Finished deploys by app and result',
    labelNames: ['app', 'result'],
    registers,
    collect() {
      for (const d of src.deploys.take()) {
        this.inc({ app: d.app, result: d.result });
        for (const [stage, s] of Object.entries(d.stages)) stageDuration.observe({ stage }, s);
      }
    },
  });
  registry.registerMetric(stageDuration);
  new Gauge({
    name: 'paas_build_queue_length',
    help: 'Builds waiting for a build slot',
    registers,
    collect() {
      this.set(src.builds().queued);
    },
  });
  new Gauge({
    name: 'paas_builds_running',
    help: 'Builds running now',
    registers,
    collect() {
      this.set(src.builds().running);
    },
  });
  const countsOf = (name: string, help: string, counts: Map<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['app', 'process'],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of counts) this.inc(processLabels(key), n);
      },
    });
  countsOf(
    'paas_container_restarts_total',
    'App containers that exited without paas stopping them, by app and process type',
    src.events.restarts,
  );
  countsOf('paas_container_oom_kills_total', 'App containers killed for memory, by app and process type', src.events.oomKills);
  new Gauge({
    name: 'paas_tls_certificate_not_after',
    help: 'Expiry of the certificate serving a host (unix seconds)',
    labelNames: ['host'],
    registers,
    collect() {
      this.reset();
      const latest = new Map<string, number>();
      for (const c of src.certificates()) {
        const t = Date.parse(c.notAfter) / 1000;
        if (!Number.isFinite(t)) continue;
        for (const host of c.names) latest.set(host, Math.max(latest.get(host) ?? 0, t));
      }
      for (const [host, t] of latest) this.set({ host }, t);
    },
  });
  const lastGood = new Map<string, number>();
  new Gauge({
    name: 'paas_addon_backup_last_success_timestamp_seconds',
    help: 'When the last successful backup of an add-on ended (unix seconds)',
    labelNames: ['type', 'addon'],
    registers,
    collect() {
      this.reset();
      for (const b of src.backups()) {
        const key = `${b.type}\0${b.name}`;
        if (b.last?.ok) lastGood.set(key, Math.max(lastGood.get(key) ?? 0, Date.parse(b.last.at) / 1000));
        const t = lastGood.get(key);
        if (t !== undefined && Number.isFinite(t)) this.set({ type: b.type, addon: b.name }, t);
      }
    },
  });
  containerMetrics(src.sampler, registry);
  return registry;
}

/**
 * Per app and process type, from the sampler's latest reading of every running container
 * (container-sampler.ts); the endpoint takes the reading before it renders (metrics-endpoint.ts).
 */
function containerMetrics(sampler: ContainerSampler, registry: Registry): void {
  const registers = [registry];
  const labelNames = ['app', 'process'];
  const figures: Array<[string, 'counter' | 'gauge', string, (p: ProcessUsage) => number]> = [
    ['paas_container_replicas', 'gauge', 'Running containers by app and process type', (p) => p.replicas],
    ['paas_container_cpu_seconds_total', 'counter', 'CPU time of running containers', (p) => p.cpuSeconds],
    ['paas_container_memory_working_set_bytes', 'gauge', 'Memory in use minus page cache', (p) => p.memoryBytes],
    ['paas_container_memory_limit_bytes', 'gauge', 'Memory limit of running containers', (p) => p.memoryLimitBytes],
    ['paas_container_network_receive_bytes_total', 'counter', 'Bytes received by running containers', (p) => p.networkRxBytes],
    ['paas_container_network_transmit_bytes_total', 'counter', 'Bytes sent by running containers', (p) => p.networkTxBytes],
  ];
  for (const [name, type, help, value] of figures) {
    const config = {
      name,
      help,
      labelNames,
      registers,
      collect(this: Counter | Gauge) {
        this.reset();
        for (const p of sampler.byProcess()) this.inc({ app: p.app, process: p.process }, value(p));
      },
    };
    if (type === 'counter') new Counter(config);
    else new Gauge(config);
  }
}
