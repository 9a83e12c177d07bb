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
  distribute(image: string): Promise<DistributedImage>;
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
