import type { NotificationSink } from '../contracts/notification-sink.js';
import type { Logger } from '../log/logger.js';
import type { DockerEvent } from '../runtime/docker-events.js';

/** Docker actions on a paas container that can leave an app away from its desired state. */
export const CONVERGE_ACTIONS = new Set(['die', 'start', 'destroy', 'oom']);

export interface EventSource {
  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal, onConnect?: (reconnected: boolean) => void): void;
  /** whether paas's own call caused the event (a container it started, stops, or runs as a one-off) */
  isOwnEvent(e: DockerEvent): boolean;
}

export interface AppConverger {
  /** converges one app under its lock; false when it failed */
  convergeApp(app: string, signal: AbortSignal): Promise<boolean>;
}

export interface LockView {
  isLocked(app: string): boolean;
}

export interface EventWatcherOptions {
  /** quiet time per app after the last event before converging; default 500 ms */
  debounceMs?: number;
  /** how often an app whose lock is held is looked at again; default 1000 ms */
  lockRetryMs?: number;
  /** first and last delay after a failed convergence (doubling); default 1 s .. 60 s */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** told app.crashed when a container paas did not stop dies or is OOM-killed */
  notify?: NotificationSink;
}

interface AppState {
  timer: NodeJS.Timeout | null;
  running: boolean;
  again: boolean;
  failures: number;
  notBefore: number;
}

/**
 * Docker events -> convergence. A `die`, `start`, `destroy` or `oom` of a paas container that paas
 * did not cause itself (a crash, a restart by the engine, a `docker rm` by hand) marks its app;
 * after `debounceMs` without further events the app is converged through the same path as
 * recovery (Recovery.convergeApp: under the app lock, missing replicas started, strays removed,
 * proxy targets refreshed). An app whose lock is held (a deploy, scale or restart is changing it)
 * is left to that operation and looked at again once the lock is free. A failed convergence
 * (dockerd down, a replica that keeps crashing) is retried with a doubling backoff. When the
 * event stream comes back after a break (dockerd restarted: events of the gap are lost), every
 * app is converged, which is what brings apps back with their new addresses.
 */
export class EventWatcher {
  private readonly apps = new Map<string, AppState>();
  private readonly debounceMs: number;
  private readonly lockRetryMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly notify: NotificationSink | null;
  private signal: AbortSignal | null = null;
  /** convergences started (tests and logs) */
  converged = 0;

  constructor(
    private readonly source: EventSource,
    private readonly converger: AppConverger,
    private readonly locks: LockView,
    private readonly listApps: () => string[],
    private readonly log: Logger,
    opts: EventWatcherOptions = {},
  ) {
    this.debounceMs = opts.debounceMs ?? 500;
    this.lockRetryMs = opts.lockRetryMs ?? 1000;
    this.backoffMs = opts.backoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    this.notify = opts.notify ?? null;
  }

  start(signal: AbortSignal): void {
    this.signal = signal;
    signal.addEventListener(
      'abort',
      () => {
        for (const s of this.apps.values()) if (s.timer) clearTimeout(s.timer);
        this.apps.clear();
      },
      { once: true },
    );
    this.source.events(
      (e) => this.onEvent(e),
      signal,
      (reconnected) => {
        if (!reconnected) return;
        this.log.info('docker events stream back: converging every app');
        for (const app of this.listApps()) {
          const st = this.apps.get(app);
          if (st) {
            st.failures = 0;
            st.notBefore = 0;
          }
          this.schedule(app, this.debounceMs);
        }
      },
    );
  }

  onEvent(e: DockerEvent): void {
    if (!e.app || !CONVERGE_ACTIONS.has(e.action)) return;
    // what a deploy, scale or restart did itself needs no convergence after it: converging would
    // only hold the app's lock and make the next command wait ("Waiting for recovery of …")
    if (this.source.isOwnEvent(e)) return;
    // only apps of this server's database: another paas on the same engine (tests) owns the rest
    if (!this.listApps().includes(e.app)) return;
    if (e.action === 'die' || e.action === 'oom') this.crashed(e);
    this.schedule(e.app, this.debounceMs);
  }

  /** A container paas did not stop died: app.crashed (the notifier folds an `oom` and its `die`). */
  private crashed(e: DockerEvent): void {
    const who = e.process ? `container ${e.process}${e.replica ? `.${e.replica}` : ''}` : 'a container';
    const how = e.action === 'oom' ? 'was killed: out of memory' : `exited with code ${e.exitCode ?? 'unknown'}`;
    this.notify?.notify({ event: 'app.crashed', app: e.app, release: e.release ?? null, message: `${who} ${how}; paas restarts it` });
  }

  /** (Re)arms the app's timer: later events push it back (debounce); never earlier than a failure backoff allows. */
  schedule(app: string, delayMs: number): void {
    if (this.signal?.aborted) return;
    let s = this.apps.get(app);
    if (!s) {
      s = { timer: null, running: false, again: false, failures: 0, notBefore: 0 };
      this.apps.set(app, s);
    }
    if (s.running) {
      s.again = true;
      return;
    }
    if (s.timer) clearTimeout(s.timer);
    const wait = Math.max(delayMs, s.notBefore - Date.now());
    s.timer = setTimeout(() => void this.fire(app), wait);
  }

  private async fire(app: string): Promise<void> {
    const s = this.apps.get(app);
    const signal = this.signal;
    if (!s || !signal || signal.aborted) return;
    s.timer = null;
    if (this.locks.isLocked(app)) {
      // a deploy or another operation is changing the app; it converges it itself. Look again later.
      this.schedule(app, this.lockRetryMs);
      return;
    }
    s.running = true;
    this.converged++;
    let ok = false;
    try {
      ok = await this.converger.convergeApp(app, signal);
    } finally {
      s.running = false;
    }
    if (signal.aborted) return;
    if (ok) {
      s.failures = 0;
      s.notBefore = 0;
    } else {
      s.failures++;
      const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (s.failures - 1));
      s.notBefore = Date.now() + backoff;
      this.log.warn({ app, failures: s.failures, retryMs: backoff }, 'convergence after docker events failed; retrying');
      this.schedule(app, backoff);
      s.again = false;
      return;
    }
    if (s.again) {
      s.again = false;
      this.schedule(app, this.debounceMs);
    } else {
      this.apps.delete(app);
    }
  }
}
