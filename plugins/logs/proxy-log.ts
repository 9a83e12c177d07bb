import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import type { AccessEntry } from '../../src/proxy/edge/request-figures.js';
import type { PluginApi } from '../../src/plugin-host/plugin-api.js';

/** How often `logs APP --proxy -t` asks the proxy for new entries. */
const FOLLOW_MS = 1000;

/** One access log line: time, method, path, status, duration, bytes, client address, request id. */
export function accessLine(e: AccessEntry): string {
  // the path is the client's: control characters are shown escaped, never sent to a terminal
  const path = JSON.stringify(e.path).slice(1, -1);
  return `${new Date(e.time).toISOString()} ${e.method} ${path} ${e.status} ${e.durationMs}ms ${e.bytes}B client=${e.client} id=${e.requestId}\n`;
}

/**
 * `logs APP --proxy`: the last `lines` entries of the app's proxy access log (kept in memory by
 * each proxy worker, the last 1,000 per app and worker); with `follow`, new ones as they come
 * until the session ends.
 */
export async function showProxyLog(
  api: PluginApi,
  app: string,
  opts: { lines: number; follow: boolean },
  out: Writable,
  signal: AbortSignal,
): Promise<void> {
  let since = 0;
  let seenAtSince = new Set<string>();
  let limit = opts.lines;
  for (;;) {
    const entries = await api.metrics.accessLog(app, Math.max(0, since - 1), Math.max(limit, 1));
    for (const e of entries) {
      if (e.time < since || (e.time === since && seenAtSince.has(e.requestId))) continue;
      if (limit > 0 || opts.follow) out.write(accessLine(e));
      if (e.time > since) {
        since = e.time;
        seenAtSince = new Set();
      }
      seenAtSince.add(e.requestId);
    }
    if (!opts.follow || signal.aborted || out.destroyed) return;
    limit = 10_000;
    // true when the session ended first (the signal aborts); no listener is left behind on it
    const stopped = await sleep(FOLLOW_MS, false, { signal }).catch(() => true);
    if (stopped) return;
  }
}
