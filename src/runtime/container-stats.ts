import type Dockerode from 'dockerode';
import { statusOf } from './docker-error-details.js';
import { RuntimeErrors } from './runtime-errors.js';

export interface ContainerStats {
  /** like `docker stats`: 100 = one full core */
  cpuPercent: number;
  /** usage minus page cache, like `docker stats` */
  memoryBytes: number;
  memoryLimitBytes: number;
}

interface RawStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** One sample of CPU and memory (the engine takes two readings about a second apart). */
export async function containerStats(docker: Dockerode, id: string): Promise<ContainerStats> {
  let raw: RawStats;
  try {
    raw = (await docker.getContainer(id).stats({ stream: false })) as unknown as RawStats;
  } catch (e) {
    if (statusOf(e) === 404) throw RuntimeErrors.notFound(`no container ${id}`, e);
    throw RuntimeErrors.docker(`cannot read stats of ${id}`, e);
  }
  return computeStats(raw);
}

export function computeStats(raw: RawStats): ContainerStats {
  const cpu = raw.cpu_stats ?? {};
  const pre = raw.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && sysDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const mem = raw.memory_stats ?? {};
  const st = mem.stats ?? {};
  // cgroup v1 reports page cache as total_inactive_file/cache, v2 as inactive_file
  const cache = st.total_inactive_file ?? st.inactive_file ?? st.cache ?? 0;
  const usage = Math.max(0, (mem.usage ?? 0) - cache);
  return { cpuPercent: Math.round(cpuPercent * 100) / 100, memoryBytes: usage, memoryLimitBytes: mem.limit ?? 0 };
}
