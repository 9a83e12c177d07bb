import type { NotificationSink } from '../contracts/notification-sink.js';
import type { ImageInfo, ImageStore } from '../runtime/image-store.js';
import type { ConfigRepository } from '../state/config-repository.js';
import type { DeploysRepository } from '../state/deploys-repository.js';
import type { FormationRepository } from '../state/formation-repository.js';
import type { Release, ReleasesRepository } from '../state/releases-repository.js';
import type { AppSettingsStore } from './app-settings-store.js';
import type { ReleaseManager } from './release-manager.js';
import type { StageOutput } from './stage-output.js';
import { webPort } from './web-port.js';

export interface ImageReleaseDeps {
  releases: Pick<ReleasesRepository, 'create' | 'update' | 'get' | 'current'>;
  formation: Pick<FormationRepository, 'all' | 'replace'>;
  config: Pick<ConfigRepository, 'all'>;
  deploys: Pick<DeploysRepository, 'start' | 'setRelease' | 'finish'>;
  settings: Pick<AppSettingsStore, 'snapshot'>;
  images: Pick<ImageStore, 'tag'>;
  activator: Pick<ReleaseManager, 'activate'>;
  /** told deploy.succeeded / deploy.failed */
  notify?: NotificationSink;
}

/**
 * "Deploy this image as a release": the entry point of deploys that do not build (git:load-image,
 * git:from-image). The image is tagged `paas/<app>:vN` like a built one, recorded with its id as
 * the release's source, and made live through ReleaseManager.activate (health-gated blue-green
 * rollout), so it is rolled back, restarted and pruned like any release. The image's own command
 * is `web`; other process types need a Procfile, so they are scaled to 0. The caller holds the app lock.
 */
export class ImageRelease {
  constructor(private readonly deps: ImageReleaseDeps) {}

  async deploy(app: string, image: { ref: string } & ImageInfo, stage: StageOutput, signal: AbortSignal): Promise<Release> {
    const d = this.deps;
    const formation = { web: d.formation.all(app).web ?? 1 };
    const deployId = d.deploys.start(app, process.pid);
    const release = d.releases.create({
      app,
      image: null,
      commitSha: null,
      sourceImage: image.id,
      description: `Deploy image ${image.ref} (${image.id.replace(/^sha256:/, '').slice(0, 12)})`,
      config: d.config.all(app),
      formation,
      status: 'deploying',
      builder: 'image',
      processes: {},
      port: webPort(image.exposedPorts, d.settings.snapshot(app).port),
    });
    d.deploys.setRelease(deployId, release.version);
    try {
      await d.images.tag(image.id, `paas/${app}`, `v${release.version}`);
      d.releases.update(app, release.version, { image: `paas/${app}:v${release.version}` });
      await d.activator.activate(app, d.releases.get(app, release.version)!, stage, signal);
      d.formation.replace(app, formation);
      d.deploys.finish(deployId, 'succeeded');
      d.notify?.notify({
        event: 'deploy.succeeded',
        app,
        release: release.version,
        message: `${release.description}: release v${release.version} is live`,
      });
      return d.releases.get(app, release.version)!;
    } catch (err) {
      d.releases.update(app, release.version, { status: 'failed' });
      const why = (err as Error).message.split('\n')[0];
      d.deploys.finish(deployId, 'failed', why);
      d.notify?.notify({ event: 'deploy.failed', app, release: release.version, message: `${release.description} failed: ${why}` });
      throw err;
    }
  }
}
