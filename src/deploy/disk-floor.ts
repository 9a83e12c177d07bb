import fs from 'node:fs/promises';
import { DiskErrors } from './disk-errors.js';
import { formatMemory } from './resource-limits.js';

/** A place whose free space is checked: `the data dir` at /var/lib/paas. */
export interface DiskPlace {
  what: string;
  path: string;
}

export interface DiskFloorOptions {
  /** `builder:set --global min-free-disk` in bytes, read at every check (null: none) */
  floor(): number | null;
  /** the places to check (the data dir, Docker's data root when it is on this host) */
  places(): Promise<DiskPlace[]>;
  /** free bytes for an unprivileged writer at `path`; default: statfs */
  freeBytes?(path: string): Promise<number>;
}

/** Free bytes an unprivileged writer has on the file system of `path` (statfs bavail × bsize). */
export async function freeDiskBytes(path: string): Promise<number> {
  const s = await fs.statfs(path);
  return s.bavail * s.bsize;
}

/**
 * The free-disk floor: pushes, `git:load-image` uploads and builds check it before they write
 * anything, and are refused with one line naming the place that is low. A place that cannot be
 * read (Docker's data root of a remote engine) is skipped.
 */
export class DiskFloor {
  constructor(private readonly opts: DiskFloorOptions) {}

  /** Throws DiskErrors.low (`<refused>: free disk on ...`) when a place is below the floor. */
  async check(refused: string): Promise<void> {
    const floor = this.opts.floor();
    if (floor === null) return;
    const free = this.opts.freeBytes ?? freeDiskBytes;
    for (const place of await this.opts.places()) {
      const bytes = await free(place.path).catch(() => null);
      if (bytes === null || bytes >= floor) continue;
      throw DiskErrors.low(
        `${refused}: free disk on ${place.what} (${place.path}) is ${formatMemory(bytes)}, below the floor of ${formatMemory(floor)} (builder:set --global min-free-disk); nothing was written`,
      );
    }
  }
}
