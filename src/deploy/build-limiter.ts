import os from 'node:os';
import type { BuildCgroups } from '../builders/build-cgroup.js';
import type { BuildStepLimits } from '../builders/build-limits.js';
import { DEFAULT_PIDS_LIMIT } from '../runtime/container-hardening.js';
import { formatMemory, type ResourceTable } from './resource-limits.js';

/** Processes (and threads) of one build, all its steps together: an app container's limit. */
export const BUILD_PIDS_LIMIT = DEFAULT_PIDS_LIMIT;
/** The memory of a build when neither the app (`resource:limit`) nor the host (`resource:set-global memory`) sets one. */
export const DEFAULT_BUILD_MEMORY = 2 * 1024 ** 3;
/** How long a build may run unless `builder:set --global build-timeout` says otherwise. */
export const DEFAULT_BUILD_TIMEOUT_MS = 30 * 60_000;

/**
 * The memory a build gets: the largest limit the app sets for any of its processes, else the
 * host's default for containers, else DEFAULT_BUILD_MEMORY (at most three quarters of the host's).
 */
export function buildMemory(
  appLimits: ResourceTable,
  hostDefault: number | null,
  hostTotal = os.totalmem(),
): { bytes: number; source: string } {
  const own = Object.values(appLimits)
    .map((l) => l.memoryBytes)
    .filter((n): n is number => n !== undefined);
  if (own.length) return { bytes: Math.max(...own), source: 'resource:limit' };
  if (hostDefault !== null) return { bytes: hostDefault, source: 'resource:set-global memory' };
  return { bytes: Math.min(DEFAULT_BUILD_MEMORY, Math.floor((hostTotal * 3) / 4)), source: 'the build default' };
}

/** 1800000 -> `30m`; 90000 -> `90s`; 7200000 -> `2h`; 1500 -> `1500ms`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

export interface BuildLimiterOptions {
  cgroups: Pick<BuildCgroups, 'create'>;
  /** `builder:set --global build-timeout`, read at every build */
  timeoutMs(): number;
  /** `resource:set-global memory` (null: none) */
  hostDefaultMemory(): number | null;
}

export interface OpenedLimits {
  limits: BuildStepLimits;
  /** removes the build's cgroup */
  close(): Promise<void>;
}

/**
 * Each build's limits, like an app container's: its memory (the app's, the host default's, or
 * the build default), a pids limit for all its steps together and a time limit, held by a parent
 * cgroup made for the build (builders/build-cgroup.ts) and removed after it.
 */
export class BuildLimiter {
  constructor(private readonly opts: BuildLimiterOptions) {}

  async open(appLimits: ResourceTable): Promise<OpenedLimits> {
    const memory = buildMemory(appLimits, this.opts.hostDefaultMemory());
    const timeoutMs = this.opts.timeoutMs();
    const cgroup = await this.opts.cgroups.create({ pids: BUILD_PIDS_LIMIT, memoryBytes: memory.bytes });
    const pids = cgroup ? `${BUILD_PIDS_LIMIT} processes` : 'no process limit on this engine';
    const limits: BuildStepLimits = {
      memoryBytes: memory.bytes,
      memoryText: `${formatMemory(memory.bytes)}, from ${memory.source}`,
      pids: BUILD_PIDS_LIMIT,
      deadline: Date.now() + timeoutMs,
      timeoutText: formatDuration(timeoutMs),
      summary: `memory ${formatMemory(memory.bytes)} (${memory.source}), ${pids}, time ${formatDuration(timeoutMs)}`,
      cgroup,
    };
    return { limits, close: async () => cgroup?.remove() };
  }
}
