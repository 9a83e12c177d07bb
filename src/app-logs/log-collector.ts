import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { LABELS } from '../runtime/container-naming.js';
import type { DockerEvent } from '../runtime/docker-events.js';
import { FrameParser, LineSplitter } from '../runtime/docker-frames.js';
import type { AppLogStore, LogCursor, LogPosition } from './app-log-store.js';
import { dockerSince, type LogRecord, timeKey } from './log-record.js';

/** Told every batch of lines an app's containers wrote, with where the batch starts in the store. */
export type LiveListener = (records: LogRecord[], at: LogPosition) => void;

export interface CollectorDeps {
  docker: Dockerode;
  store: AppLogStore;
  /** Docker container events of paas containers until the signal aborts (reconnecting after a dockerd restart) */
  events: (onEvent: (e: DockerEvent) => void, signal: AbortSignal, onConnect?: (reconnected: boolean) => void) => void;
  /** the drains: each batch is offered to the app's drain, which never blocks */
  ship: (app: string, records: LogRecord[]) => void;
  log: Logger;
  /** how often retention runs besides at each segment rotation (default 10 min) */
  retentionEveryMs?: number;
  /**
   * this server's own container labels (PAAS_CONTAINER_LABELS, as the runtime scopes its lists):
   * only containers carrying all of them are followed, so another paas (or test server) on the
   * same engine never has its apps' output stored here, under an app of the same name
   */
  labels?: Record<string, string>;
}

interface Attached {
  app: string;
  stop: () => void;
  /** the container started again while its last stream was still ending: attach once more */
  again: boolean;
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/s;

/**
 * Follows the log stream of every app container (one `logs?follow=1` per container, attached on
 * its `start` event, no polling) and appends each line to the app's kept log with its release,
 * process type and replica. After a control-plane restart each container resumes from the last
 * line stored for it (`since` that time, skipping the lines already stored at exactly that
 * time), so nothing is lost or doubled; containers that stopped meanwhile are read to their end.
 * Interactive `run` containers are left out (their output went to the user's terminal).
 */
export class LogCollector {
  private readonly attached = new Map<string, Attached>();
  private readonly cursors = new Map<string, Map<string, LogCursor>>();
  private readonly listeners = new Map<string, Set<LiveListener>>();
  private stopped = false;

  constructor(private readonly deps: CollectorDeps) {
    deps.store.cursorSource = (app) => Object.fromEntries(this.cursorsOf(app));
  }

  start(signal: AbortSignal): void {
    const { events, store, log } = this.deps;
    events(
      (e) => {
        if (!e.app) return;
        if (e.action === 'start') void this.attach(e.id);
        else if (e.action === 'destroy') this.cursors.get(e.app)?.delete(e.id.slice(0, 12));
      },
      signal,
      // at the first connection and after dockerd came back: every container, running or stopped
      () => void this.scan(),
    );
    const every = setInterval(() => {
      for (const app of store.apps()) store.enforce(app);
    }, this.deps.retentionEveryMs ?? 600_000);
    every.unref();
    signal.addEventListener(
      'abort',
      () => {
        this.stopped = true;
        clearInterval(every);
        for (const a of this.attached.values()) a.stop();
        this.attached.clear();
        store.closeAll();
      },
      { once: true },
    );
    log.debug({}, 'app log collector started');
  }

  /** Live lines of one app until the returned function is called. */
  subscribe(app: string, fn: LiveListener): () => void {
    const set = this.listeners.get(app) ?? new Set<LiveListener>();
    this.listeners.set(app, set);
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size) this.listeners.delete(app);
    };
  }

  /** Containers whose streams are followed now (tests and logs:report). */
  following(app: string): number {
    let n = 0;
    for (const a of this.attached.values()) if (a.app === app) n++;
    return n;
  }

  private async scan(): Promise<void> {
    try {
      const own = Object.entries(this.deps.labels ?? {}).map(([k, v]) => (v ? `${k}=${v}` : k));
      const list = await this.deps.docker.listContainers({ all: true, filters: { label: [LABELS.app, ...own] } });
      for (const c of list) void this.attach(c.Id);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'listing containers for their logs failed');
    }
  }

  /** Whether a container is this server's: it carries every one of its own labels (a label given without a value: any value). */
  private owns(labels: Record<string, string>): boolean {
    for (const [k, v] of Object.entries(this.deps.labels ?? {})) {
      if (labels[k] === undefined || (v !== '' && labels[k] !== v)) return false;
    }
    return true;
  }

  private cursorsOf(app: string): Map<string, LogCursor> {
    const have = this.cursors.get(app);
    if (have) return have;
    const m = this.deps.store.cursors(app);
    this.cursors.set(app, m);
    return m;
  }

  private async attach(id: string): Promise<void> {
    if (this.stopped) return;
    const have = this.attached.get(id);
    if (have) {
      have.again = true;
      return;
    }
    const entry: Attached = { app: '', stop: () => undefined, again: false };
    this.attached.set(id, entry);
    try {
      const c = this.deps.docker.getContainer(id);
      const info = await c.inspect();
      const lb = info.Config.Labels ?? {};
      const app = lb[LABELS.app];
      const process = lb[LABELS.process] ?? 'app';
      if (!app || (lb[LABELS.oneOff] === '1' && process === 'run') || !this.owns(lb) || this.stopped) return;
      entry.app = app;
      const c12 = id.slice(0, 12);
      const cursors = this.cursorsOf(app);
      const from = cursors.get(c12);
      const stream = (await c.logs({
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: true,
        ...(from ? { since: dockerSince(from.t) } : {}),
      } as unknown as Dockerode.ContainerLogsOptions & { follow: true })) as NodeJS.ReadableStream & { destroy?: () => void };
      entry.stop = () => stream.destroy?.();
      if (this.stopped) {
        entry.stop();
        return;
      }
      const base = { c: c12, r: Number(lb[LABELS.release] ?? 0), p: process, i: Number(lb[LABELS.replica] ?? 0) };
      await this.pump(app, base, stream, from ? { key: timeKey(from.t), skip: from.n } : null);
    } catch (err) {
      this.deps.log.debug({ id, err: (err as Error).message }, 'container log stream unavailable');
    } finally {
      this.attached.delete(id);
      if (entry.app && this.following(entry.app) === 0) this.deps.store.close(entry.app);
      if (entry.again) void this.attach(id);
    }
  }

  private pump(
    app: string,
    base: Pick<LogRecord, 'c' | 'r' | 'p' | 'i'>,
    stream: NodeJS.ReadableStream,
    resume: { key: string; skip: number } | null,
  ): Promise<void> {
    const cursors = this.cursorsOf(app);
    let batch: LogRecord[] = [];
    const lines = new LineSplitter((s, raw) => {
      const m = TS_RE.exec(raw);
      if (!m) return; // Docker stamps every line; anything else is not a log line
      const t = m[1]!;
      if (resume) {
        const key = timeKey(t);
        if (key < resume.key) return;
        if (key === resume.key && resume.skip > 0) {
          resume.skip--;
          return;
        }
        resume = null;
      }
      const cur = cursors.get(base.c);
      if (cur && cur.t === t) cur.n++;
      else cursors.set(base.c, { t, n: 1 });
      batch.push({ t, ...base, s: s === 'stderr' ? 'e' : 'o', m: m[2]! });
    });
    const frames = new FrameParser((s, data) => lines.push(s, data));
    const flush = () => {
      if (!batch.length) return;
      const records = batch;
      batch = [];
      const at = this.deps.store.append(app, records);
      try {
        for (const fn of this.listeners.get(app) ?? []) fn(records, at);
        this.deps.ship(app, records);
      } catch (err) {
        this.deps.log.warn({ app, err: (err as Error).message }, 'passing on log lines failed');
      }
    };
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        frames.end();
        lines.end();
        flush();
        resolve();
      };
      stream.on('data', (b: Buffer) => {
        frames.push(b);
        flush();
      });
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
  }
}
