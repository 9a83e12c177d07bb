import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../log/logger.js';

/**
 * A parent cgroup per build: the engine puts every step container of the build under it
 * (`cgroupparent` of POST /build), so its pids and memory limits hold for the whole build. The
 * classic builder takes a memory limit per step but no pids limit, and RLIMIT_NPROC does not bind
 * root, so this is what stops a fork bomb in a RUN step.
 *
 * Three layouts, read from the engine (`docker info` CgroupVersion and CgroupDriver):
 * - v1, cgroupfs driver (verified on Docker 20.10 here): `<root>/pids/<name>/pids.max` and
 *   `<root>/memory/<name>/memory.limit_in_bytes`, parent `/<name>`; the engine adds the other
 *   controllers' dirs, all removed after the build.
 * - v2, cgroupfs driver: `<root>/<name>/{pids.max,memory.max,memory.swap.max}`, parent `/<name>`.
 * - v2, systemd driver (Debian 12's default): the parent must be a slice; its limits are systemd
 *   properties (`systemctl set-property --runtime <name>.slice TasksMax= MemoryMax= MemorySwapMax=0`),
 *   since systemd rewrites the cgroup files of the units it manages; `systemctl stop` and `revert` after.
 * The v2 layouts are unit-tested against a temp dir (their file and command plans), not run here.
 * Anything else (v1 with systemd, no permission) gets no cgroup: the build then has the engine's
 * per-step memory limit and no pids limit, and the log says so.
 */

export interface CgroupLayout {
  version: 1 | 2;
  driver: 'cgroupfs' | 'systemd';
  /** where the cgroup filesystems are mounted, normally /sys/fs/cgroup */
  root: string;
}

export interface CgroupLimits {
  pids: number;
  memoryBytes: number;
}

/** What the build's processes ran into, read from the parent cgroup (and its children on v1). */
export interface CgroupHits {
  /** the process count reached the pids limit (a fork failed) */
  pids: boolean;
  /** processes the kernel's OOM killer ended */
  oomKills: number;
  /** memory use reached the limit at least once (reclaim or OOM) */
  memoryAtLimit: boolean;
}

export interface BuildCgroup {
  /** the `cgroupparent` to hand the engine */
  readonly parent: string;
  hits(): Promise<CgroupHits>;
  /** removes the cgroup (and undoes systemd's properties); waits for the step containers' own cgroups to go */
  remove(): Promise<void>;
}

export type Systemctl = (args: string[]) => Promise<void>;

export interface BuildCgroupsOptions {
  /** the engine's layout; null: unsupported or unknown */
  layout(): Promise<CgroupLayout | null>;
  log: Logger;
  systemctl?: Systemctl;
  /** how long remove() waits for the engine to remove its step cgroups */
  removeWaitMs?: number;
  /** when remove() tries again in the background (default 10 s and 60 s after the build) */
  resweepMs?: number[];
}

const run = promisify(execFile);
/** how close to the limit the peak use must come to count as "at the limit" (charges come in pages) */
const PAGE_SLACK = 64 * 1024;
const defaultSystemctl: Systemctl = async (args) => {
  await run('systemctl', args, { timeout: 30_000 });
};

/** The layout from `docker info` (CgroupVersion "1"|"2", CgroupDriver); null for anything else. */
export function layoutFromInfo(
  info: { CgroupVersion?: string; CgroupDriver?: string } | null,
  root = '/sys/fs/cgroup',
): CgroupLayout | null {
  if (!info) return null;
  const version = info.CgroupVersion === '2' ? 2 : info.CgroupVersion === '1' || info.CgroupVersion === undefined ? 1 : null;
  const driver = info.CgroupDriver === 'systemd' ? 'systemd' : info.CgroupDriver === 'cgroupfs' ? 'cgroupfs' : null;
  if (version === null || driver === null) return null;
  return { version, driver, root };
}

/** Makes one parent cgroup per build in the engine's layout. */
export class BuildCgroups {
  private warned = false;

  constructor(private readonly opts: BuildCgroupsOptions) {}

  /** A new parent cgroup with `limits`; null when this engine's layout is not supported or the cgroup cannot be made. */
  async create(limits: CgroupLimits): Promise<BuildCgroup | null> {
    const layout = await this.opts.layout();
    const id = randomBytes(6).toString('hex');
    try {
      const cgroup = await this.make(layout, id, limits);
      if (cgroup) return this.quietRemove(cgroup);
      this.warnOnce({ layout }, 'no build cgroup for this engine layout: builds get a memory limit but no pids limit');
    } catch (err) {
      this.warnOnce({ err, layout }, 'cannot create a build cgroup: builds get a memory limit but no pids limit');
    }
    return null;
  }

  private make(layout: CgroupLayout | null, id: string, limits: CgroupLimits): Promise<BuildCgroup | null> {
    const wait = this.opts.removeWaitMs ?? 15_000;
    if (layout?.version === 1 && layout.driver === 'cgroupfs') return createV1(layout.root, `paas-build-${id}`, limits, wait);
    if (layout?.version === 2 && layout.driver === 'cgroupfs') return createV2(layout.root, `paas-build-${id}`, limits, wait);
    if (layout?.version === 2 && layout.driver === 'systemd')
      return createSystemdSlice(layout.root, `paasbuild_${id}.slice`, limits, this.opts.systemctl ?? defaultSystemctl);
    return Promise.resolve(null);
  }

  /**
   * A cgroup left behind is logged, not thrown: the build's own outcome is what the push reports.
   * The engine may still start a step container of a cancelled build after the cgroup is gone,
   * which makes the path again (without limits, for the moments until the engine kills it): it is
   * removed again in the background, later.
   */
  private quietRemove(cgroup: BuildCgroup): BuildCgroup {
    const log = this.opts.log;
    const later = this.opts.resweepMs ?? [10_000, 60_000];
    return {
      parent: cgroup.parent,
      hits: () => cgroup.hits(),
      remove: async () => {
        await cgroup.remove().catch((err: unknown) => log.warn({ err, cgroup: cgroup.parent }, 'cannot remove a build cgroup'));
        for (const ms of later) setTimeout(() => void cgroup.remove().catch(() => {}), ms).unref();
      },
    };
  }

  private warnOnce(fields: object, message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.opts.log.warn(fields, message);
  }
}

async function createV1(root: string, name: string, limits: CgroupLimits, waitMs: number): Promise<BuildCgroup> {
  const pidsDir = path.join(root, 'pids', name);
  const memDir = path.join(root, 'memory', name);
  try {
    await fs.mkdir(pidsDir);
    await fs.writeFile(path.join(pidsDir, 'pids.max'), String(limits.pids));
    await fs.mkdir(memDir);
    await fs.writeFile(path.join(memDir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // no swap either, where swap is accounted (the file exists only then; it must not be below the limit above)
    if (await exists(path.join(memDir, 'memory.memsw.limit_in_bytes')))
      await fs.writeFile(path.join(memDir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
  } catch (err) {
    await removeV1(root, name, 0);
    throw err;
  }
  // the step containers' own cgroups (children) keep their OOM kills; sum the most seen of each
  const oomSeen = new Map<string, number>();
  return {
    parent: `/${name}`,
    async hits() {
      for (const child of await subdirs(memDir)) {
        const n = field(await read(path.join(memDir, child, 'memory.oom_control')), 'oom_kill');
        if (n > (oomSeen.get(child) ?? 0)) oomSeen.set(child, n);
      }
      const max = Number(await read(path.join(pidsDir, 'pids.max')));
      const peak = Number((await read(path.join(pidsDir, 'pids.peak'))) || (await read(path.join(pidsDir, 'pids.current'))) || 0);
      return {
        pids: Number.isFinite(max) && peak >= max,
        oomKills: field(await read(path.join(memDir, 'memory.oom_control')), 'oom_kill') + [...oomSeen.values()].reduce((a, b) => a + b, 0),
        // the peak use reached the limit (failcnt stays 0 here when the OOM killer ends the charge)
        memoryAtLimit:
          Number((await read(path.join(memDir, 'memory.max_usage_in_bytes'))) || 0) >=
          Number((await read(path.join(memDir, 'memory.limit_in_bytes'))) || Number.POSITIVE_INFINITY) - PAGE_SLACK,
      };
    },
    remove: () => removeV1(root, name, waitMs),
  };
}

/** rmdir of `<root>/<controller>/<name>` in every controller (the engine makes some of them); retried while step cgroups remain. */
async function removeV1(root: string, name: string, waitMs: number): Promise<void> {
  const dirs = (await subdirs(root)).map((c) => path.join(root, c, name));
  await removeDirs(dirs, waitMs);
}

async function createV2(root: string, name: string, limits: CgroupLimits, waitMs: number): Promise<BuildCgroup> {
  const dir = path.join(root, name);
  // the controllers must be on for the root's children (the engine turns them on for its own containers)
  const enabled = (await read(path.join(root, 'cgroup.subtree_control'))).split(/\s+/);
  const missing = ['pids', 'memory'].filter((c) => !enabled.includes(c));
  if (missing.length) await fs.writeFile(path.join(root, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  await fs.mkdir(dir);
  try {
    await writeV2Limits(dir, limits);
  } catch (err) {
    await removeDirs([dir], 0);
    throw err;
  }
  return { parent: `/${name}`, hits: () => v2Hits(dir), remove: () => removeDirs([dir], waitMs) };
}

async function writeV2Limits(dir: string, limits: CgroupLimits): Promise<void> {
  await fs.writeFile(path.join(dir, 'pids.max'), String(limits.pids));
  await fs.writeFile(path.join(dir, 'memory.max'), String(limits.memoryBytes));
  // without swap accounting the file is missing: nothing to limit then
  await fs.writeFile(path.join(dir, 'memory.swap.max'), '0').catch(() => {});
}

/** v2 events are hierarchical: the parent's files count what happened in every step container. */
async function v2Hits(dir: string): Promise<CgroupHits> {
  const mem = await read(path.join(dir, 'memory.events'));
  return {
    pids: field(await read(path.join(dir, 'pids.events')), 'max') > 0,
    oomKills: field(mem, 'oom_kill'),
    memoryAtLimit: field(mem, 'max') > 0 || field(mem, 'oom') > 0,
  };
}

async function createSystemdSlice(root: string, unit: string, limits: CgroupLimits, systemctl: Systemctl): Promise<BuildCgroup> {
  await systemctl(['set-property', '--runtime', unit, `TasksMax=${limits.pids}`, `MemoryMax=${limits.memoryBytes}`, 'MemorySwapMax=0']);
  return {
    parent: unit,
    // a slice directly under the root slice (no dash in its name: a dash would nest it)
    hits: () => v2Hits(path.join(root, unit)),
    async remove() {
      await systemctl(['stop', unit]).catch(() => {});
      await systemctl(['revert', unit]).catch(() => {});
    },
  };
}

async function removeDirs(dirs: string[], waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  let left = dirs;
  for (;;) {
    const still: string[] = [];
    for (const d of left) {
      try {
        await fs.rmdir(d);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') still.push(d);
      }
    }
    left = still;
    if (left.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`cannot remove build cgroup ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function read(file: string): Promise<string> {
  return fs.readFile(file, 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** `key N` from a flat-keyed cgroup file (pids.events, memory.events, memory.oom_control); 0 when absent. */
function field(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
