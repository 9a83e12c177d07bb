import type { Logger } from '../log/logger.js';
import type { State } from '../state/state.js';
import type { AppLocks } from './app-locks.js';
import type { RuntimePort } from './adapter-interfaces.js';
import type { Rollout } from './rollout.js';

/**
 * Brings what runs back to what the database says, on control-plane start: deploys that died
 * with a previous control plane are marked failed and their containers removed; then each app's
 * live release is converged (missing replicas started, strays removed, proxy targets refreshed
 * since container addresses change after a Docker restart).
 */
export class Recovery {
  constructor(
    private readonly state: State,
    private readonly runtime: RuntimePort,
    private readonly rollout: Rollout,
    private readonly locks: AppLocks,
    private readonly log: Logger,
  ) {}

  async run(signal: AbortSignal): Promise<void> {
    for (const d of this.state.deploys.running()) {
      if (d.pid === process.pid) continue;
      this.state.deploys.finish(d.id, 'failed', 'the control plane stopped during this deploy');
      if (d.release !== null) {
        const r = this.state.releases.get(d.app, d.release);
        if (r && r.status !== 'live' && r.status !== 'superseded') this.state.releases.update(d.app, d.release, { status: 'failed' });
      }
      this.log.warn({ app: d.app, release: d.release }, 'interrupted deploy marked failed');
    }
    for (const app of this.state.apps.list()) await this.convergeApp(app.name, signal);
  }

  /** Converges one app under its lock; false when it failed (logged), so a caller can back off. */
  async convergeApp(app: string, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return true;
    try {
      await this.locks.withLock(app, 'recovery', async () => {
        const live = this.state.releases.current(app);
        if (!live) {
          const orphans = (await this.runtime.list({ app })).filter((c) => !c.oneOff);
          await this.rollout.stopAll(orphans, 1);
          return;
        }
        const { added, removed } = await this.rollout.converge(app, null, signal);
        if (added.length || removed.length) this.log.info({ app, added: added.length, removed: removed.length }, 'app converged');
      });
      return true;
    } catch (err) {
      this.log.error({ err, app }, 'recovery of app failed');
      return false;
    }
  }
}
