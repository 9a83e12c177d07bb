import type { Readable, Writable } from 'node:stream';
import type { Identity } from '../contracts/command-io.js';
import { paasImageApp, parseImageRef } from '../deploy/image-ref.js';
import type { ImageRelease } from '../deploy/image-release.js';
import type { PushDeploy } from '../deploy/push-deploy.js';
import { StageOutput } from '../deploy/stage-output.js';
import type { ImageInfo, ImageStore } from '../runtime/image-store.js';
import type { Release } from '../state/releases-repository.js';
import { type Locks, underLock } from './app-lock.js';
import { DeployServiceErrors as E } from './deploy-service-errors.js';

export interface DeployServiceDeps {
  images: Pick<ImageStore, 'inspect' | 'pull' | 'loadDockerSave'>;
  imageRelease: Pick<ImageRelease, 'deploy'>;
  push: Pick<PushDeploy, 'rebuild'>;
  repoDir(app: string): string;
  urls(app: string): string[];
  locks: Locks;
}

export interface ImageDeployResult {
  release: Release;
  url: string;
  elapsed: string;
}

/**
 * Deploys that do not come from a push: an image built elsewhere and streamed in (`git:load-image`),
 * an image the engine has or can pull (`git:from-image`), and a rebuild of the deploy branch
 * (`ps:rebuild`). Loading and pulling happen before the app lock is taken, so a long upload holds
 * up no other command of the app; the release itself is made under the lock.
 */
export class DeployService {
  constructor(private readonly deps: DeployServiceDeps) {}

  /** `docker save` output on `tar` -> the image, untagged on the host -> a new release of `app`. */
  async loadImage(
    app: string,
    refText: string,
    tar: Readable,
    by: Identity,
    out: Writable,
    signal: AbortSignal,
  ): Promise<ImageDeployResult> {
    const ref = this.checkRef(app, refText, by);
    const stage = new StageOutput(out);
    stage.stage('load', `Loading ${ref} from stdin`);
    const id = await this.deps.images.loadDockerSave(tar, ref, signal);
    stage.info(`loaded ${id}`);
    return this.deploy(app, ref, id, stage, signal);
  }

  /** An image the engine has (or pulls) -> a new release of `app`. */
  async fromImage(app: string, refText: string, by: Identity, out: Writable, signal: AbortSignal): Promise<ImageDeployResult> {
    const ref = this.checkRef(app, refText, by);
    const stage = new StageOutput(out);
    if (!(await this.deps.images.inspect(ref))) {
      stage.stage('pull', `Pulling ${ref}`);
      await this.deps.images.pull(ref, out, signal);
    }
    return this.deploy(app, ref, ref, stage, signal);
  }

  /** Builds the deploy branch's commit again and deploys it; returns the push's exit code. */
  rebuild(app: string, by: Identity, out: Writable, signal: AbortSignal): Promise<number> {
    return underLock(this.deps.locks, app, 'a rebuild', out, signal, async () => {
      const code = await this.deps.push.rebuild(app, this.deps.repoDir(app), by.keyName, out, signal);
      if (code === null) throw E.nothingToRebuild(`app '${app}' has no pushed main (or master) branch to rebuild`);
      return code;
    });
  }

  private checkRef(app: string, text: string, by: Identity): string {
    const ref = parseImageRef(text);
    const owner = paasImageApp(ref);
    if (owner !== null && owner !== app && by.role !== 'admin')
      throw E.otherAppsImage(`${ref} is an image of app '${owner}'; a developer key deploys only its own apps' images`);
    return ref;
  }

  private deploy(app: string, ref: string, image: string, stage: StageOutput, signal: AbortSignal): Promise<ImageDeployResult> {
    return underLock(this.deps.locks, app, 'an image deploy', stage.out, signal, async () => {
      const info: ImageInfo | null = await this.deps.images.inspect(image);
      if (!info) throw E.imageGone(`${ref} vanished from the engine before it could be deployed`);
      stage.stage('release', `Deploying ${ref} (${info.id.replace(/^sha256:/, '').slice(0, 12)})`);
      const release = await this.deps.imageRelease.deploy(app, { ref, ...info }, stage, signal);
      stage.end();
      return { release, url: this.deps.urls(app)[0]!, elapsed: stage.elapsed() };
    });
  }
}
