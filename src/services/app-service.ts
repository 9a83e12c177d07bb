import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { canReach } from '../contracts/access.js';
import type { Identity } from '../contracts/command-io.js';
import type { ContainerInfo, ProxyPort, RuntimePort } from '../deploy/adapter-interfaces.js';
import type { Rollout } from '../deploy/rollout.js';
import type { Logger } from '../log/logger.js';
import type { AppsRepository } from '../state/apps-repository.js';
import type { FormationRepository } from '../state/formation-repository.js';
import type { ReleasesRepository } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { AppErrors } from './app-errors.js';
import type { DomainService } from './domain-service.js';

export interface AppDeps {
  apps: Pick<AppsRepository, 'create' | 'exists' | 'get' | 'list' | 'delete'>;
  releases: Pick<ReleasesRepository, 'current' | 'list' | 'liveVersions'>;
  formation: Pick<FormationRepository, 'all'>;
  repos: { ensureRepo(app: string): Promise<unknown>; removeRepo(app: string): void };
  domains: Pick<DomainService, 'hosts' | 'claimDefaultHost'>;
  rollout: Pick<Rollout, 'stopAll'>;
  runtime: Pick<RuntimePort, 'list' | 'removeImages' | 'removeNetwork'>;
  proxy: ProxyPort;
  locks: Locks;
  /** the app's dirs under the data dir (storage, kept release logs), removed with it */
  appDirs(app: string): string[];
  /** add-ons linked to the app leave its network before it is removed */
  detachAddons(app: string): Promise<void>;
  /** gives a developer key the app it created */
  grant(keyName: string, app: string): void;
  log: Logger;
  /** told once an app is gone (its certificates went with it: the proxy is sent the new TLS state) */
  afterDestroy?: (app: string) => Promise<void>;
}

export interface AppSummary {
  name: string;
  release: string | null;
  createdAt: string;
}

export interface AppInfo {
  name: string;
  createdAt: string | undefined;
  url: string;
  release: number | null;
  image: string | null;
  commit: string | null;
  domains: string[];
  formation: Record<string, number>;
  containers: Pick<ContainerInfo, 'id' | 'name' | 'process' | 'release' | 'replica' | 'state' | 'ip' | 'startedAt' | 'restartCount'>[];
}

/** Creating, listing, describing and destroying apps. */
export class AppService {
  constructor(private readonly deps: AppDeps) {}

  exists(app: string): boolean {
    return this.deps.apps.exists(app);
  }

  /** Creates an app; a developer key that creates one is granted it. */
  async create(app: string, by: Identity): Promise<void> {
    await this.deps.repos.ensureRepo(app);
    await this.ensure(app, by);
    this.deps.log.info({ app, key: by.keyName }, 'app created');
  }

  /**
   * Creates the app on its first push (a concurrent first push of the same name is fine) and grants
   * it to a developer creator. A new app takes back its default host from an app that had it as a
   * custom domain.
   */
  async ensure(app: string, by: Identity): Promise<void> {
    let created = false;
    if (!this.deps.apps.exists(app)) {
      try {
        this.deps.apps.create(app);
        created = true;
      } catch (err) {
        // created by a concurrent push is fine; any other failure is not (no grant for an app that is not there)
        if (!this.deps.apps.exists(app)) throw err;
      }
    }
    if (by.role !== 'admin') this.deps.grant(by.keyName, app);
    if (created) await this.deps.domains.claimDefaultHost(app);
  }

  /** The apps `by` reaches (every app for an admin). */
  list(by: Identity): AppSummary[] {
    const live = this.deps.releases.liveVersions();
    return this.deps.apps
      .list()
      .filter((a) => canReach(by, a.name))
      .map((a) => {
        const version = live.get(a.name);
        return { name: a.name, release: version === undefined ? null : `v${version}`, createdAt: a.created_at };
      });
  }

  async info(app: string): Promise<AppInfo> {
    const d = this.deps;
    const live = d.releases.current(app);
    const domains = d.domains.hosts(app);
    const containers = (await d.runtime.list({ app })).map(
      ({ id, name, process, release, replica, state, ip, startedAt, restartCount }) => ({
        id,
        name,
        process,
        release,
        replica,
        state,
        ip,
        startedAt,
        restartCount,
      }),
    );
    return {
      name: app,
      createdAt: d.apps.get(app)?.created_at,
      url: `http://${domains[0]}`,
      release: live ? live.version : null,
      image: live?.image ?? null,
      commit: live?.commitSha ?? null,
      domains,
      formation: d.formation.all(app),
      containers,
    };
  }

  /** Destroys the app: confirmed by `--force` or by its name given again. */
  async destroy(
    app: string,
    confirmation: { force: boolean; name: string | undefined },
    out: Writable,
    signal: AbortSignal,
  ): Promise<void> {
    if (!confirmation.force && confirmation.name !== app) {
      throw AppErrors.confirm(
        confirmation.name === undefined
          ? `this destroys ${app} and all its data; confirm with --force or 'apps:destroy ${app} ${app}'`
          : `confirmation '${confirmation.name}' does not match the app name '${app}'; nothing was destroyed`,
      );
    }
    const d = this.deps;
    await underLock(d.locks, app, 'apps:destroy', out, signal, async () => {
      await d.proxy.remove(app).catch(() => undefined);
      const containers = await d.runtime.list({ app });
      if (containers.length) out.write(`-----> Stopping ${containers.length} container(s)\n`);
      await d.rollout.stopAll(containers, 10);
      await d.detachAddons(app);
      await d.runtime.removeNetwork(app);
      const images = [...new Set(d.releases.list(app, 10_000).flatMap((r) => (r.image ? [r.image] : [])))];
      if (images.length) await d.runtime.removeImages(images).catch((err) => d.log.warn({ err, app }, 'image removal failed'));
      d.repos.removeRepo(app);
      for (const dir of d.appDirs(app)) fs.rmSync(dir, { recursive: true, force: true });
      d.apps.delete(app);
    });
    d.log.info({ app }, 'app destroyed');
    await d.afterDestroy?.(app).catch((err) => d.log.warn({ err, app }, 'TLS update after destroy failed'));
  }
}
