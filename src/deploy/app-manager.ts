import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { GitService } from '../git/git-service.js';
import type { Logger } from '../log/logger.js';
import type { AppLifecycle, ContainerView } from '../plugin-host/services.js';
import type { State } from '../state/state.js';
import type { AppLocks } from './app-locks.js';
import type { ProxyPort, RuntimePort } from './ports.js';
import { releaseLogDir } from './release-log.js';
import type { Rollout } from './rollout.js';
import { appStorageDir } from './storage-mounts.js';

/** Creating and destroying apps, and the read/route operations commands need. */
export class AppManager implements AppLifecycle {
  constructor(
    private readonly state: State,
    private readonly git: GitService,
    private readonly runtime: RuntimePort,
    private readonly proxy: ProxyPort,
    private readonly rollout: Rollout,
    private readonly locks: AppLocks,
    private readonly log: Logger,
    /** the data dir: destroy removes the app's storage dir and its kept release logs */
    private readonly dataDir: string | null = null,
  ) {}

  async create(app: string): Promise<void> {
    await this.git.ensureRepo(app);
    if (!this.state.apps.exists(app)) this.state.apps.create(app);
    this.log.info({ app }, 'app created');
  }

  /** Creates the app on its first push; a concurrent first push of the same name is fine. */
  async ensure(app: string): Promise<void> {
    if (!this.state.apps.exists(app)) {
      try {
        this.state.apps.create(app);
      } catch {
        // created by a concurrent push
      }
    }
  }

  async destroy(app: string, out: Writable, signal: AbortSignal): Promise<void> {
    await this.locks.withLock(
      app,
      'apps:destroy',
      async () => {
        await this.proxy.remove(app).catch(() => undefined);
        const containers = await this.runtime.list({ app });
        if (containers.length) out.write(`-----> Stopping ${containers.length} container(s)\n`);
        await this.rollout.stopAll(containers, 10);
        const images = [
          ...new Set(
            this.state.releases
              .list(app, 10_000)
              .map((r) => r.image)
              .filter((i): i is string => !!i),
          ),
        ];
        if (images.length) await this.runtime.removeImages(images).catch((err) => this.log.warn({ err, app }, 'image removal failed'));
        this.git.removeRepo(app);
        if (this.dataDir) {
          fs.rmSync(appStorageDir(this.dataDir, app), { recursive: true, force: true });
          fs.rmSync(releaseLogDir(this.dataDir, app), { recursive: true, force: true });
        }
        this.state.apps.delete(app);
      },
      undefined,
      signal,
    );
    this.log.info({ app }, 'app destroyed');
  }

  async containers(app: string): Promise<ContainerView[]> {
    const list = await this.runtime.list({ app });
    return list.map((c) => ({
      id: c.id,
      name: c.name,
      process: c.process,
      release: c.release,
      replica: c.replica,
      state: c.state,
      ip: c.ip,
      startedAt: c.startedAt,
      restartCount: c.restartCount,
    }));
  }

  /** Re-sends the app's hosts to the proxy after a domain change (nothing to do before the first deploy). */
  async reroute(app: string): Promise<void> {
    const live = this.state.releases.current(app);
    if (!live) return;
    const web = (await this.runtime.list({ app, process: 'web' })).filter((c) => c.state === 'running' && c.ip);
    if (web.length === 0) return;
    const targets = web.filter((c) => c.release === live.version).map((c) => `${c.ip}:${c.port}`);
    await this.proxy.deploy(app, this.rollout.proxySpec(app, targets));
  }
}
