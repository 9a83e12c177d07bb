import { setMaxListeners } from 'node:events';
import { EventWatcher } from '../deploy/event-watcher.js';
import { Recovery } from '../deploy/recovery.js';
import type { Logger } from '../log/logger.js';
import type { State } from '../state/state.js';
import type { ControlPlane } from './control-plane.js';

/**
 * What the server runs besides answering commands, started and stopped in one place: scheduled
 * add-on backups, the recovery of every app at start, then the Docker events watcher (a replica
 * died, dockerd restarted: the app converges again) and the Let's Encrypt renewals. `paas admin`
 * builds the same control plane and starts none of them.
 */
export class BackgroundJobs {
  private readonly stopping = new AbortController();
  /**
   * Every loop below waits on the one stop signal (14 listeners at once on a running server, a
   * steady number: each sleep removes its own): above Node's default of 10, which warned of a leak.
   */
  private static readonly STOP_LISTENERS = 64;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly cp: ControlPlane,
    private readonly state: State,
    private readonly log: Logger,
  ) {}

  start(): void {
    const { cp, state, log } = this;
    const signal = this.stopping.signal;
    setMaxListeners(BackgroundJobs.STOP_LISTENERS, signal);
    // scheduled add-on backups run in the control plane; their schedules are in the database
    cp.addonSchedule.start();
    // app.json cron of the live releases; its runs' rows say which containers still run
    cp.cronScheduler.start();
    // app output into the kept logs from the start: a container recovery starts is followed too
    cp.logCollector.start(signal);
    cp.metricsBackground(signal);
    const recovery = new Recovery(state, cp.runtime, cp.rollout, cp.locks, log.child({ module: 'recovery' }));
    // the apps with replicas on the Swarm are known before recovery lists them
    this.running = cp.runtime.swarm
      .seed()
      .then(() => recovery.run(signal))
      .catch((err) => log.error({ err }, 'recovery failed'))
      .then(() => {
        // after recovery, so the watcher never races the first convergence of an app
        const watcher = new EventWatcher(
          cp.runtime,
          recovery,
          cp.locks,
          () => state.apps.list().map((a) => a.name),
          log.child({ module: 'event-watcher' }),
          { notify: cp.notifications },
        );
        if (signal.aborted) return;
        watcher.start(signal);
        // a warm release's window ends with a convergence of its app, which removes it
        cp.warm.start(
          state.apps.list().map((a) => a.name),
          (app) => void recovery.convergeApp(app, signal),
          signal,
        );
        cp.renewals.start(signal);
      });
  }

  /** Stops them all; resolves once a recovery still running has let go. */
  stop(): Promise<void> {
    this.stopping.abort();
    this.cp.addonSchedule.stop();
    this.cp.notifications.close();
    this.cp.cronScheduler.stop();
    return this.running;
  }
}
