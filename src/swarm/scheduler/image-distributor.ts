import type Dockerode from 'dockerode';
import { engineMessage } from '../../runtime/docker-error-details.js';
import { SchedulerErrors } from './scheduler-errors.js';

/** Where Swarm nodes get a release image from: the reference they pull, and the registry credentials (absent: none). */
export interface DistributedImage {
  reference: string;
  auth?: { username: string; password: string; serveraddress: string };
}

/** Given an image built on the manager, makes it reachable from the nodes (a registry push, or nothing on one node). */
export interface ImageDistributor {
  distribute(image: string, app: string, release: number): Promise<DistributedImage>;
}

/** What the distributor needs of paas's registry (src/swarm/registry/registry-access.ts). */
export interface RegistryPort {
  /** throws while there is no registry (before cluster:init) */
  readonly address: string;
  readonly auth: { username: string; password: string; serveraddress: string };
  push(image: string, app: string, version: number): Promise<string>;
}

/**
 * Each release image pushed once to paas's registry on the manager, and pulled by every node with
 * paas's login; without a registry (no cluster:init yet: a Swarm of one engine) the image is used
 * where it is, by its ID.
 */
export class RegistryImageDistributor implements ImageDistributor {
  constructor(
    private readonly registry: () => RegistryPort | null,
    private readonly local: ImageDistributor,
  ) {}

  async distribute(image: string, app: string, release: number): Promise<DistributedImage> {
    const r = this.registry();
    let ready = false;
    try {
      ready = r !== null && r.address.length > 0;
    } catch {
      ready = false;
    }
    if (!r || !ready) return this.local.distribute(image, app, release);
    const reference = await r.push(image, app, release);
    return { reference, auth: r.auth };
  }
}

/**
 * One-node Swarm (or every node already holding the image): the image is referenced by its ID.
 * Docker skips the registry pull for an ID-referenced task image, whereas a plain tag such as
 * `paas/app:v3` makes every task wait for Docker Hub's pull to fail first (20 s of DNS timeout on
 * a host without Hub access) before it falls back to the local image.
 */
export class LocalImageDistributor implements ImageDistributor {
  constructor(private readonly docker: Dockerode) {}

  async distribute(image: string): Promise<DistributedImage> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return { reference: info.Id };
    } catch (e) {
      throw SchedulerErrors.taskFailed(`image ${image} is not on the manager: ${engineMessage(e)}`, e);
    }
  }
}
