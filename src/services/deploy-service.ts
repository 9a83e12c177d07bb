import type { Readable, Writable } from 'node:stream';
import type { Identity } from '../contracts/command-io.js';
import { paasImageApp, parseImageRef } from '../inputs/image-ref.js';
import type { ImageRelease } from '../deploy/image-release.js';
import type { PushDeploy } from '../deploy/push-deploy.js';
import { StageOutput } from '../deploy/stage-output.js';
import { describeOwner, type ImageOwnership, imageRefusal } from '../runtime/image-ownership.js';
import type { ImageInfo, ImageStore } from '../runtime/image-store.js';
import type { Release } from '../state/releases-repository.js';
import { type Locks, underLock } from '../deploy/app-locks.js';
import { DeployServiceErrors as E } from './deploy-service-errors.js';

export interface DeployServiceDeps {
  images: Pick<ImageStore, 'inspect' | 'pull' | 'loadDockerSave'>;
  /** which app owns which image id (a developer key deploys only its app's own and base images) */
  ownership: Pick<ImageOwnership, 'owners'>;
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
    // the upload brought its own bytes: only an image another app owns is refused (never removed: it is that app's)
    await this.checkOwner(app, ref, id, by, 'allow');
    return this.deploy(app, ref, id, stage, signal);
  }

  /** An image the engine has (or pulls) -> a new release of `app`. */
  async fromImage(app: string, refText: string, by: Identity, out: Writable, signal: AbortSignal): Promise<ImageDeployResult> {
    const ref = this.checkRef(app, refText, by);
    const stage = new StageOutput(out);
    let info = await this.deps.images.inspect(ref);
    if (!info) {
      stage.stage('pull', `Pulling ${ref}`);
      await this.deps.images.pull(ref, out, signal);
      info = await this.deps.images.inspect(ref);
      if (!info) throw E.imageGone(`${ref} vanished from the engine before it could be deployed`);
    }
    // judged by id, whatever the spelling (docker.io/…, sha256:…); the release is made from that id
    await this.checkOwner(app, ref, info.id, by, 'refuse');
    return this.deploy(app, ref, info.id, stage, signal);
  }

  /** Builds the deploy branch's commit again and deploys it; returns the push's exit code. */
  rebuild(app: string, by: Identity, out: Writable, signal: AbortSignal): Promise<number> {
    return underLock(this.deps.locks, app, 'a rebuild', out, signal, async () => {
      const code = await this.deps.push.rebuild(app, this.deps.repoDir(app), by, out, signal);
      if (code === null) throw E.nothingToRebuild(`app '${app}' has no pushed main (or master) branch to rebuild`);
      return code;
    });
  }

  /** The ref, refused early when its spelling alone names another app's `paas/<app>` (it may not be on the host). */
  private checkRef(app: string, text: string, by: Identity): string {
    const ref = parseImageRef(text);
    const owner = paasImageApp(ref);
    if (owner !== null && owner !== app && by.role !== 'admin') throw refusal(ref, describeOwner([owner]));
    return ref;
  }

  /** Refuses a developer key an image id that is not its app's own or a base image (one image list per check). */
  private async checkOwner(app: string, ref: string, id: string, by: Identity, loose: 'allow' | 'refuse'): Promise<void> {
    if (by.role === 'admin') return;
    const why = imageRefusal({ app, role: by.role }, (await this.deps.ownership.owners()).of(id), loose);
    if (why) throw refusal(ref, describeOwner(why.owners));
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

function refusal(ref: string, owner: string) {
  return E.otherAppsImage(`${ref} is ${owner}; a developer key deploys only its own apps' images and base images`);
}
