import type Dockerode from 'dockerode';
import { ClusterErrors } from '../cluster/cluster-errors.js';
import type { RegistryEndpoint } from './registry-files.js';
import { RegistryErrors } from './registry-errors.js';

/** The login an engine uses for paas's registry: dockerode's `authconfig`, and Swarm's X-Registry-Auth. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/**
 * What the Swarm scheduler needs of paas's registry: its address, the login (for pushes and
 * for services, whose tasks pull with it on every node), and a push of a release's image.
 */
export class RegistryAccess {
  constructor(
    private readonly docker: Dockerode,
    private readonly endpoint: () => RegistryEndpoint | null,
  ) {}

  private current(): RegistryEndpoint {
    const e = this.endpoint();
    if (!e) throw ClusterErrors.notInitialized('there is no registry yet: run cluster:init first');
    return e;
  }

  /** `host:port` of the registry. */
  get address(): string {
    return this.current().address;
  }

  get auth(): RegistryAuth {
    const e = this.current();
    return { username: e.username, password: e.password, serveraddress: e.address };
  }

  /** `<address>/paas/<app>:v<N>`, the name a release's image has in the registry. */
  imageRef(app: string, version: number): string {
    return `${this.address}/paas/${app}:v${version}`;
  }

  /**
   * Tags the local image `image` (a name or an id on paas's engine) as the release's registry
   * name and pushes it with paas's login; resolves with that name once the registry has it.
   */
  async push(image: string, app: string, version: number): Promise<string> {
    const ref = this.imageRef(app, version);
    const repo = ref.slice(0, ref.lastIndexOf(':'));
    try {
      await this.docker.getImage(image).tag({ repo, tag: `v${version}` });
      const stream = await this.docker.getImage(ref).push({ authconfig: this.auth });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null, out: { error?: string; errorDetail?: { message?: string } }[]) => {
          const failed = out?.find((o) => o.error || o.errorDetail);
          if (err) reject(err);
          else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
          else resolve();
        });
      });
    } catch (err) {
      throw RegistryErrors.pushFailed(`pushing ${ref} to the registry failed: ${(err as Error).message}`, err);
    }
    return ref;
  }
}
