import type { Readable, Writable } from 'node:stream';
import type { CommandIo } from '../contracts/command-io.js';
import type { AppSettingsStore } from '../deploy/app-settings-store.js';
import { DeployErrors } from '../deploy/deploy-errors.js';
import type { Rollout } from '../deploy/rollout.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { LogStream } from '../runtime/log-stream.js';
import type { AppLogStore, LogPosition } from '../app-logs/app-log-store.js';
import { comparePositions } from '../app-logs/app-log-store.js';
import { AppLogsErrors } from '../app-logs/app-logs-errors.js';
import { isLocalDrainHost, parseDrainUrl, redactDrainUrl } from '../app-logs/drain-url.js';
import type { LogCollector } from '../app-logs/log-collector.js';
import type { DrainStats } from '../app-logs/log-drain.js';
import type { LogDrains } from '../app-logs/log-drains.js';
import { formatRecord, type LogRecord } from '../app-logs/log-record.js';
import { formatAge, formatSize } from '../app-logs/log-retention.js';
import type { LogSettings } from '../app-logs/log-settings.js';
import type { ReleasesRepository } from '../state/releases-repository.js';

export interface LogsDeps {
  releases: Pick<ReleasesRepository, 'current'>;
  settings: Pick<AppSettingsStore, 'snapshot'>;
  rollout: Pick<Rollout, 'spec'>;
  runtime: Pick<ContainerRuntime, 'runOneOff'>;
  /**
   * Apps on the Swarm scheduler: the collector follows this engine's containers only, so their
   * logs are read from their replicas (service logs: tasks on every node) instead of the store.
   */
  swarm?: { onSwarm(app: string): boolean; replicas: Pick<ContainerRuntime, 'list' | 'streamLogs'> };
  /** the kept logs: stored lines, the live feed, retention and drains */
  store: Pick<AppLogStore, 'read' | 'end' | 'stats' | 'enforce'>;
  collector: Pick<LogCollector, 'subscribe' | 'following'>;
  logSettings: LogSettings;
  drains: Pick<LogDrains, 'set' | 'stats'>;
}

export interface LogsOptions {
  follow: boolean;
  /** the last N lines of the app (after the filters) */
  lines: number;
  process: string | null;
  /** only lines of the last this many milliseconds */
  sinceMs?: number | null;
  release?: number | null;
}

/** What `logs:report` shows. */
export interface LogsReport {
  app: string;
  maxSize: string;
  maxAge: string;
  /** the caps that are the host's defaults rather than the app's own */
  defaults: Array<'max-size' | 'max-age'>;
  storedBytes: number;
  segments: number;
  /** lines lost since the server started because the log could not be written (a full disk) */
  droppedLines: number;
  /** containers whose output is being followed now */
  following: number;
  drain: (Omit<DrainStats, 'url'> & { url: string }) | null;
}

/** An app's logs (kept across deploys by the collector), their retention and drain, and one-off containers (`run`). */
export class LogsService {
  constructor(private readonly deps: LogsDeps) {}

  /**
   * The app's last lines across releases, filtered, printed `<time> web.1: <text>`; following
   * then prints each new line as the collector stores it, until the signal aborts.
   */
  async logs(app: string, opts: LogsOptions, out: Writable, signal: AbortSignal): Promise<void> {
    const swarm = this.deps.swarm;
    if (swarm?.onSwarm(app)) return this.replicaLogs(swarm.replicas, app, opts, out, signal);
    const { store, collector } = this.deps;
    const sinceMs = opts.sinceMs != null ? Date.now() - opts.sinceMs : null;
    const match = (r: LogRecord) => (opts.process === null || r.p === opts.process) && (opts.release == null || r.r === opts.release);
    const early: Array<{ records: LogRecord[]; at: LogPosition }> = [];
    let live: ((records: LogRecord[], at: LogPosition) => void) | null = null;
    // subscribe before reading, so no line falls between the history and the live feed
    const unsubscribe = opts.follow
      ? collector.subscribe(app, (records, at) => (live ? live(records, at) : early.push({ records, at })))
      : null;
    try {
      const end = store.end(app);
      const history = await store.read(app, { lines: opts.lines, sinceMs, release: opts.release ?? null, process: opts.process }, end);
      if (history.length) out.write(`${history.map(formatRecord).join('\n')}\n`);
      if (!unsubscribe || signal.aborted) return;
      const print = (records: LogRecord[]) => {
        const text = records.filter(match).map(formatRecord);
        if (text.length) out.write(`${text.join('\n')}\n`);
      };
      for (const b of early) if (comparePositions(b.at, end) >= 0) print(b.records);
      live = (records) => print(records);
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      unsubscribe?.();
    }
  }

  /**
   * A Swarm app's logs from its replicas, merged and prefixed `process.replica` (the last
   * `lines` of each, `--release` picks the replicas, `--since` is passed to the service logs);
   * following picks up replicas started later. Lines of removed services (earlier releases) are
   * gone with them: the Swarm keeps no logs of a removed service.
   */
  private async replicaLogs(
    runtime: Pick<ContainerRuntime, 'list' | 'streamLogs'>,
    app: string,
    opts: LogsOptions,
    out: Writable,
    signal: AbortSignal,
  ): Promise<void> {
    const filter = { app, ...(opts.process ? { process: opts.process } : {}), ...(opts.release != null ? { release: opts.release } : {}) };
    const pick = async () => (await runtime.list(filter)).filter((c) => !c.oneOff);
    const first = await pick();
    const stream = runtime.streamLogs(
      first.map((c) => c.id),
      { follow: opts.follow, tail: opts.lines, ...(opts.sinceMs != null ? { since: Math.floor((Date.now() - opts.sinceMs) / 1000) } : {}) },
      signal,
    );
    let poll: NodeJS.Timeout | null = null;
    if (opts.follow) {
      const seen = new Set(first.map((c) => c.id));
      poll = setInterval(() => {
        void pick()
          .then((cs) => {
            for (const c of cs.filter((c) => !seen.has(c.id))) {
              seen.add(c.id);
              stream.add(c.id, 'all');
            }
          })
          .catch(() => undefined);
      }, 1000);
    }
    try {
      for await (const l of stream) {
        if (signal.aborted) break;
        out.write(`${LogStream.format(l)}\n`);
      }
    } finally {
      if (poll) clearInterval(poll);
      stream.close();
    }
  }

  /**
   * `logs:set APP max-size|max-age|drain VALUE`: stores it and applies it now (retention runs, the
   * drain is replaced). Only an admin key may point a drain at this host or a link-local address.
   */
  set(app: string, key: string, value: string | undefined, by: { admin: boolean }): string {
    if (key === 'drain' && value && !by.admin && /^[a-z+]+:\/\//i.test(value)) {
      const target = parseDrainUrl(value);
      if (isLocalDrainHost(target.host))
        throw AppLogsErrors.drainRefused(
          `a drain to ${target.host} (this host or a link-local address) needs an admin key; nothing was changed`,
        );
    }
    const v = this.deps.logSettings.setApp(app, key, value);
    if (key === 'drain') this.deps.drains.set(app, typeof v === 'string' ? v : null);
    else this.deps.store.enforce(app);
    return describe(key, v);
  }

  /** `logs:set --global max-size|max-age VALUE`: the default caps of apps without their own. */
  setGlobal(key: string, value: string | undefined): string {
    return describe(key, this.deps.logSettings.setGlobal(key, value));
  }

  report(app: string): LogsReport {
    const s = this.deps.logSettings.of(app);
    const st = this.deps.store.stats(app);
    const d = this.deps.drains.stats(app);
    return {
      app,
      maxSize: formatSize(s.retention.maxBytes),
      maxAge: formatAge(s.retention.maxAgeMs),
      defaults: [...(s.own.maxSize ? [] : ['max-size' as const]), ...(s.own.maxAge ? [] : ['max-age' as const])],
      storedBytes: st.bytes,
      segments: st.segments,
      droppedLines: st.dropped,
      following: this.deps.collector.following(app),
      drain: d ? { ...d, url: redactDrainUrl(d.url) } : null,
    };
  }

  /** A one-off container of the live release with its config; returns its exit code. */
  async run(app: string, command: string, io: CommandIo): Promise<number> {
    const live = this.deps.releases.current(app);
    if (!live) throw DeployErrors.noRelease(app);
    const base = this.deps.rollout.spec(app, live, 'run', 0, this.deps.settings.snapshot(app));
    const env = { ...base.env, ...(io.pty ? { TERM: io.pty.term || 'xterm' } : {}) };
    const spec = { ...base, env, command, restart: { policy: 'no' as const } };
    const pty = io.pty;
    let unsubscribed = false;
    return this.deps.runtime.runOneOff(spec, {
      tty: pty !== null,
      stdin: io.stdin as Readable,
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      ...(pty
        ? {
            initialSize: { cols: pty.cols, rows: pty.rows },
            onResize: (listener) => {
              pty.onResize((cols, rows) => {
                if (!unsubscribed) listener({ cols, rows });
              });
              return () => {
                unsubscribed = true;
              };
            },
          }
        : {}),
    });
  }
}

function describe(key: string, v: number | string | null): string {
  if (v === null) return key === 'drain' ? 'off' : 'the default';
  if (typeof v === 'string') return redactDrainUrl(v);
  return key === 'max-size' ? formatSize(v) : formatAge(v);
}
