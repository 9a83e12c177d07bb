import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import type { TopRow } from '../../src/metrics/metrics-service.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import type { PluginApi } from '../../src/plugin-host/plugin-api.js';

/** The live mode's refresh interval. */
const WATCH_MS = 2000;
/** ANSI: cursor home, clear the screen below (redraws in place on a terminal). */
const HOME_CLEAR = '\u001b[H\u001b[J';

function size(n: number): string {
  if (n < 1024) return `${Math.round(n)}B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(2)}G`;
}

function rate(n: number | null): string {
  return n === null ? '-' : `${size(n)}/s`;
}

/** The ps:top table: per app and process type, usage now and the web traffic of the last minute. */
export function topTable(rows: TopRow[], windowSeconds: number): string {
  if (rows.length === 0) return 'no running containers\n';
  const body = table(
    ['APP', 'PROCESS', 'REPLICAS', 'CPU', 'MEMORY', 'NET IN', 'NET OUT', 'REQ/S', 'P95', '5XX'],
    rows.map((r) => [
      r.app,
      r.process,
      r.replicas,
      r.cpuPercent === null ? '-' : `${r.cpuPercent.toFixed(1)}%`,
      `${size(r.memoryBytes)} / ${r.memoryLimitBytes > 0 ? size(r.memoryLimitBytes) : '-'}`,
      rate(r.networkRxRate),
      rate(r.networkTxRate),
      r.traffic === null ? '-' : r.traffic.requestsPerSecond.toFixed(1),
      r.traffic?.p95Seconds == null ? '-' : `${Math.round(r.traffic.p95Seconds * 1000)}ms`,
      r.traffic === null ? '-' : r.traffic.serverErrors,
    ]),
  );
  return `${body}(traffic over the last ${windowSeconds}s; CPU 100% = one core)\n`;
}

/**
 * Runs ps:top once, or with `watch` redraws every 2 s until the session ends (the signal aborts
 * when the SSH channel closes).
 */
export async function runTop(
  api: PluginApi,
  apps: ReadonlySet<string>,
  out: Writable,
  opts: { json: boolean; watch: boolean; signal: AbortSignal },
): Promise<void> {
  for (;;) {
    const { windowSeconds, rows } = await api.metrics.top(apps);
    if (opts.json) writeJson(out, { windowSeconds, rows });
    else out.write(`${opts.watch ? HOME_CLEAR : ''}${topTable(rows, windowSeconds)}`);
    if (!opts.watch || opts.signal.aborted || out.destroyed) return;
    // true when the session ended first (the signal aborts); no listener is left behind on it
    const stopped = await sleep(WATCH_MS, false, { signal: opts.signal }).catch(() => true);
    if (stopped || out.destroyed) return;
  }
}
