import fs from 'node:fs';
import os from 'node:os';

export interface HostReportSources {
  dataDir: string;
  buildQueue(): { running: number; queued: number };
  certificates(): { names: string[]; notAfter: string }[];
  addons(): { type: string; name: string; lastBackup: { at: string; ok: boolean } | null; schedule: string | null }[];
  /** the Swarm nodes, or null without a cluster */
  nodes(): Promise<unknown[] | null>;
}

export interface HostReport {
  cpu: { cores: number; load1: number };
  memory: { total: number; used: number };
  disk: { path: string; total: number; free: number } | null;
  buildQueue: { running: number; waiting: number };
  certsExpiring: { host: string; notAfter: string }[];
  addonBackups: { service: string; lastSuccess: string | null; lastError: string | null }[];
  nodes: unknown[] | null;
}

/** certificates expiring within this many days are listed */
const EXPIRING_DAYS = 30;

/** The host page's figures (admins only): read when asked, nothing sampled in the background. */
export async function hostReport(s: HostReportSources, now = Date.now()): Promise<HostReport> {
  let disk: HostReport['disk'] = null;
  try {
    const st = fs.statfsSync(s.dataDir);
    disk = { path: s.dataDir, total: st.blocks * st.bsize, free: st.bavail * st.bsize };
  } catch {
    disk = null;
  }
  const q = s.buildQueue();
  const soon = now + EXPIRING_DAYS * 86_400_000;
  const certsExpiring = s
    .certificates()
    .filter((c) => Date.parse(c.notAfter) <= soon)
    .map((c) => ({ host: c.names[0] ?? '?', notAfter: c.notAfter }))
    .sort((a, b) => a.notAfter.localeCompare(b.notAfter));
  const addonBackups = s
    .addons()
    .filter((a) => a.schedule !== null || a.lastBackup !== null)
    .map((a) => ({
      service: `${a.type}:${a.name}`,
      lastSuccess: a.lastBackup?.ok ? a.lastBackup.at : null,
      lastError: a.lastBackup && !a.lastBackup.ok ? a.lastBackup.at : null,
    }));
  return {
    cpu: { cores: os.cpus().length, load1: os.loadavg()[0] ?? 0 },
    memory: { total: os.totalmem(), used: os.totalmem() - os.freemem() },
    disk,
    buildQueue: { running: q.running, waiting: q.queued },
    certsExpiring,
    addonBackups,
    nodes: await s.nodes().catch(() => null),
  };
}
