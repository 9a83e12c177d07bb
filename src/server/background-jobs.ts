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
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly cp: ControlPlane,
    private readonly state: State,
    private readonly log: Logger,
  ) {}

  start(): void {
    const { cp, state, log } = this;
    const signal = this.stopping.signal;
    // scheduled add-on backups run in the control plane; their schedules are in the database
    cp.addonSchedule.start();
    cp.metricsBackground(signal);
    const recovery = new Recovery(state, cp.runtime, cp.rollout, cp.locks, log.child({ module: 'recovery' }));
    this.running = recovery
      .run(signal)
      .catch((err) => log.error({ err }, 'recovery failed'))
      .then(() => {
        // after recovery, so the watcher never races the first convergence of an app
        const watcher = new EventWatcher(
          cp.runtime,
          recovery,
          cp.locks,
          () => state.apps.list().map((a) => a.name),
          log.child({ module: 'event-watcher' }),
        );
        if (signal.aborted) return;
        watcher.start(signal);
        cp.renewals.start(signal);
      });
  }

  /** Stops them all; resolves once a recovery still running has let go. */
  stop(): Promise<void> {
    this.stopping.abort();
    this.cp.addonSchedule.stop();
    return this.running;
  }
}
