import type Dockerode from 'dockerode';
import { LABELS } from './container-naming.js';
import { computeStats } from './container-stats.js';
import { statusOf } from './docker-error-details.js';
import { RuntimeErrors } from './runtime-errors.js';

/** What one reading of a container's counters says: cumulative CPU and network, current memory. */
export interface ContainerUsage {
  /** CPU time used since the container started, in seconds */
  cpuSeconds: number;
  /** usage minus page cache (the working set), like `docker stats` */
  memoryBytes: number;
  memoryLimitBytes: number;
  /** bytes received and sent on all its interfaces since it started */
  networkRxBytes: number;
  networkTxBytes: number;
}

interface RawUsage {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

export function usageOf(raw: RawUsage): ContainerUsage {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(raw.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  const mem = computeStats(raw);
  return {
    cpuSeconds: (raw.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
    memoryBytes: mem.memoryBytes,
    memoryLimitBytes: mem.memoryLimitBytes,
    networkRxBytes: rx,
    networkTxBytes: tx,
  };
}

/**
 * One reading of a container's counters, `one-shot` (API 1.41): the engine answers at once
 * instead of waiting a second for a second CPU reading, so rates are made by the caller from two
 * readings. The cheap alternative to a stats stream per container (docs/metrics.md).
 */
export async function containerUsage(docker: Dockerode, id: string, signal?: AbortSignal): Promise<ContainerUsage> {
  let raw: RawUsage;
  try {
    raw = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true, abortSignal: signal } as never)) as unknown as RawUsage;
  } catch (e) {
    if (statusOf(e) === 404) throw RuntimeErrors.notFound(`no container ${id}`, e);
    throw RuntimeErrors.docker(`cannot read stats of ${id}`, e);
  }
  return usageOf(raw);
}

/**
 * The running app containers of this paas (its extra labels scope them), one-offs left out: one
 * list call, no inspect per container (what a scrape pays for, every time).
 */
export async function runningAppContainers(
  docker: Dockerode,
  ownLabels: Record<string, string>,
): Promise<Array<{ id: string; app: string; process: string }>> {
  const own = Object.entries(ownLabels).map(([k, v]) => (v ? `${k}=${v}` : k));
  let list: Dockerode.ContainerInfo[];
  try {
    list = await docker.listContainers({ filters: { label: [LABELS.app, LABELS.process, ...own], status: ['running'] } });
  } catch (e) {
    throw RuntimeErrors.docker('cannot list containers', e);
  }
  return list
    .filter((c) => c.Labels[LABELS.oneOff] === undefined)
    .map((c) => ({ id: c.Id, app: c.Labels[LABELS.app], process: c.Labels[LABELS.process] }));
}
