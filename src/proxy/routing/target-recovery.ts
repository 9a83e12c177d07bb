import type { Logger } from '../../log/logger.js';
import { HealthCheck } from './health-check.js';
import type { HealthCheckSpec } from './service-spec.js';

type Recovered = (service: string, address: string) => void;

interface Probe {
  timer: NodeJS.Timeout | null;
  stopped: boolean;
}

/**
 * The primary's side of passive health: a target the workers took out of rotation (connections
 * refused) is probed with the service's health check at its interval (1 s by default) until it
 * answers; then `recovered` puts it back. One probe loop per service and address.
 */
export class TargetRecovery {
  private readonly probes = new Map<string, Probe>();
  private readonly recovered: Recovered;
  private readonly log: Logger;

  constructor(recovered: Recovered, logger: Logger) {
    this.recovered = recovered;
    this.log = logger;
  }

  private static key(service: string, address: string): string {
    return `${service}\u0000${address}`;
  }

  start(service: string, address: string, spec: HealthCheckSpec): void {
    const key = TargetRecovery.key(service, address);
    if (this.probes.has(key)) return;
    const probe: Probe = { timer: null, stopped: false };
    this.probes.set(key, probe);
    const check = new HealthCheck(address, spec);
    const tick = async () => {
      probe.timer = null;
      const r = await check.probe(spec.timeoutMs);
      if (probe.stopped) return;
      if (r.ok) {
        this.probes.delete(key);
        this.log.info({ service, target: address, detail: r.detail }, 'target answers again, back in rotation');
        this.recovered(service, address);
        return;
      }
      probe.timer = setTimeout(tick, spec.intervalMs);
    };
    probe.timer = setTimeout(tick, spec.intervalMs);
  }

  stop(service: string, address: string): void {
    const key = TargetRecovery.key(service, address);
    const probe = this.probes.get(key);
    if (!probe) return;
    probe.stopped = true;
    if (probe.timer) clearTimeout(probe.timer);
    this.probes.delete(key);
  }

  close(): void {
    for (const probe of this.probes.values()) {
      probe.stopped = true;
      if (probe.timer) clearTimeout(probe.timer);
    }
    this.probes.clear();
  }
}
