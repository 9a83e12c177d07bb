import os from 'node:os';
import { InputErrors } from '../inputs/input-errors.js';
import { PROCESS_TYPE_RE } from '../runtime/container-naming.js';

/**
 * `resource:limit` input: `memory=512m cpus=1.5` (or `none` to clear one) for one process type or
 * every process (`*`). Stored in the app setting `resources` as { [process|'*']: { memoryBytes,
 * nanoCpus } }, which `Rollout.spec()` reads at the next rollout. Every parse error is a usage
 * error (exit 2) raised before anything changes.
 */

export type ResourceLimits = { memoryBytes?: number; nanoCpus?: number };
export type ResourceTable = Record<string, ResourceLimits>;

/** Docker refuses memory limits under 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const MAX_MEMORY_BYTES = 1024 ** 4; // 1 TiB
const UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const usage = (message: string) => InputErrors.resourceUsage(`${message}; nothing was changed`);

/** `512m` -> 536870912; `1.5g`, `64M`, `100mb` and `2048k` too; a unit is required. `minBytes`: other sizes than a container's memory. */
export function parseMemory(value: string, minBytes = MIN_MEMORY_BYTES): number {
  const m = /^(\d{1,7}(?:\.\d{1,3})?)([kmg])b?$/i.exec(value.trim());
  if (!m) throw usage(`memory must be a number with a unit k, m or g (e.g. 512m, 1.5g), got '${value}'`);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (bytes < minBytes)
    throw usage(
      minBytes === MIN_MEMORY_BYTES
        ? `memory must be at least 6m (Docker's minimum), got '${value}'`
        : `memory must be at least ${formatMemory(minBytes)}, got '${value}'`,
    );
  if (bytes > MAX_MEMORY_BYTES) throw usage(`memory must be at most 1024g, got '${value}'`);
  return bytes;
}

/** `1`, `0.5`, `1.25` -> nano CPUs; more than 0 (at least 0.01) and at most the host's cores. */
export function parseCpus(value: string, hostCpus = os.cpus().length): number {
  if (!/^\d{1,4}(\.\d{1,9})?$/.test(value.trim()))
    throw usage(`cpus must be a decimal number greater than 0 (e.g. 0.5, 1, 2), got '${value}'`);
  const n = Number(value);
  if (!(n >= 0.01)) throw usage(`cpus must be at least 0.01, got '${value}'`);
  if (n > hostCpus) throw usage(`cpus must be at most ${hostCpus} (this host's cores), got '${value}'`);
  return Math.round(n * 1e9);
}

export function checkProcessType(p: string, known: Set<string> | null): string {
  if (p === '*') return p;
  if (!PROCESS_TYPE_RE.test(p)) throw usage(`invalid process type '${p}'`);
  if (known && !known.has(p)) throw usage(`unknown process type '${p}' (known: ${[...known].sort().join(', ')})`);
  return p;
}

/**
 * `memory=512m cpus=1` -> the patch for one process entry; `none` clears a limit (undefined in
 * the result means "remove"). Unknown keys, duplicates and malformed pairs are refused.
 */
export function parseLimitArgs(args: string[], hostCpus = os.cpus().length): { memoryBytes?: number | null; nanoCpus?: number | null } {
  if (args.length === 0) throw usage('give memory=SIZE and/or cpus=N, e.g. memory=512m cpus=1');
  const out: { memoryBytes?: number | null; nanoCpus?: number | null } = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i < 0) throw usage(`'${a}' is not KEY=VALUE (memory=512m, cpus=1)`);
    const key = a.slice(0, i).toLowerCase();
    const value = a.slice(i + 1);
    if (key === 'memory') {
      if ('memoryBytes' in out) throw usage('memory given twice');
      out.memoryBytes = value === 'none' ? null : parseMemory(value);
    } else if (key === 'cpus' || key === 'cpu') {
      if ('nanoCpus' in out) throw usage('cpus given twice');
      out.nanoCpus = value === 'none' ? null : parseCpus(value, hostCpus);
    } else {
      throw usage(`unknown resource '${a.slice(0, i)}' (use memory or cpus)`);
    }
  }
  return out;
}

/** Applies a patch to the stored table; entries left empty are dropped. */
export function applyLimits(
  table: ResourceTable,
  process: string,
  patch: { memoryBytes?: number | null; nanoCpus?: number | null },
): ResourceTable {
  const next: ResourceTable = { ...table };
  const entry: ResourceLimits = { ...(next[process] ?? {}) };
  if (patch.memoryBytes === null) delete entry.memoryBytes;
  else if (patch.memoryBytes !== undefined) entry.memoryBytes = patch.memoryBytes;
  if (patch.nanoCpus === null) delete entry.nanoCpus;
  else if (patch.nanoCpus !== undefined) entry.nanoCpus = patch.nanoCpus;
  if (Object.keys(entry).length) next[process] = entry;
  else delete next[process];
  return next;
}

/** 536870912 -> `512m`; 1610612736 -> `1.5g`. */
export function formatMemory(bytes: number | undefined): string {
  if (bytes === undefined) return 'unlimited';
  for (const [u, f] of [
    ['g', UNITS.g!],
    ['m', UNITS.m!],
    ['k', UNITS.k!],
  ] as const) {
    if (bytes >= f) return `${Number((bytes / f).toFixed(2))}${u}`;
  }
  return `${bytes}b`;
}

export function formatCpus(nano: number | undefined): string {
  return nano === undefined ? 'unlimited' : String(Number((nano / 1e9).toFixed(3)));
}
