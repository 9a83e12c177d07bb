// Fakes and setup for the unit tests of the operations services (processes, releases, traffic,
// logs, image deploys): identities, a live app without the 2 s stability window, container
// stats, an image store, and the proxy's traffic controls.
import type { Readable, Writable } from 'node:stream';
import type { Identity } from '../../../src/contracts/command-io.js';
import type { Locks } from '../../../src/deploy/app-locks.js';
import type { ImageRelease } from '../../../src/deploy/image-release.js';
import type { PushDeploy } from '../../../src/deploy/push-deploy.js';
import type { StageOutput } from '../../../src/deploy/stage-output.js';
import { ProxyErrors } from '../../../src/proxy/proxy-errors.js';
import type { ProxyReport, ServiceInfo } from '../../../src/proxy/control/proxy-client.js';
import type { TrafficControls } from '../../../src/proxy/routing/service-spec.js';
import type { ContainerStats } from '../../../src/runtime/container-stats.js';
import { type ImageListEntry, ImageOwners } from '../../../src/runtime/image-ownership.js';
import type { ImageInfo, ImageStore } from '../../../src/runtime/image-store.js';
import type { Release } from '../../../src/state/releases-repository.js';
import { release } from './deploy-fakes.js';
import { liveApp } from './services-setup.js';

/** A signal that never aborts. */
export const never = new AbortController().signal;

export const ADMIN: Identity = { keyName: 'ops', role: 'admin', apps: [], canCreate: true };

/** A developer key granted `apps`. */
export function developer(...apps: string[]): Identity {
  return { keyName: 'dev', role: 'developer', apps, canCreate: false };
}

/** Lets pending promise chains run (`rounds` turns of the event loop). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Takes `app`'s lock as `what` (a push, say) and holds it until the returned function is awaited. */
export function holdLock(locks: Locks, app: string, what: string): () => Promise<void> {
  let free!: () => void;
  const held = locks.withLock(app, what, () => new Promise<void>((r) => (free = r)));
  return async () => {
    free();
    await held;
  };
}

/** `docker stats` of the containers in `samples`; any other id fails as a gone container does. */
export class FakeStats {
  readonly samples = new Map<string, ContainerStats>();
  readonly asked: string[] = [];
  async stats(id: string): Promise<ContainerStats> {
    this.asked.push(id);
    const s = this.samples.get(id);
    if (!s) throw new Error(`no such container: ${id}`);
    return s;
  }
}

/** One frame of Docker's multiplexed log stream, stamped with `time` as `timestamps: true` does. */
export function logFrame(stream: 'stdout' | 'stderr', time: string, text: string): Buffer {
  const body = Buffer.from(`${time} ${text}\n`);
  const head = Buffer.alloc(8);
  head[0] = stream === 'stdout' ? 1 : 2;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** The engine's images by reference: inspect, pull (from `registry`) and load, every call recorded. */
export class FakeImageStore implements Pick<ImageStore, 'inspect' | 'pull' | 'loadDockerSave'> {
  readonly images = new Map<string, ImageInfo>();
  /** what a pull of a reference brings */
  readonly registry = new Map<string, ImageInfo>();
  readonly calls: string[] = [];
  /** the id the next `docker load` yields (known by that id only: as with the real store, no tag moves) */
  loads: ImageInfo = { id: 'sha256:loaded', exposedPorts: [] };

  async inspect(ref: string): Promise<ImageInfo | null> {
    this.calls.push(`inspect ${ref}`);
    return this.images.get(ref) ?? null;
  }

  async pull(ref: string, out: Writable): Promise<void> {
    this.calls.push(`pull ${ref}`);
    out.write(`pulled ${ref}\n`);
    const info = this.registry.get(ref);
    if (info) this.images.set(ref, info).set(info.id, info);
  }

  async loadDockerSave(tar: Readable, ref: string): Promise<string> {
    let bytes = 0;
    for await (const chunk of tar) bytes += (chunk as Buffer).length;
    this.calls.push(`load ${ref} (${bytes} bytes)`);
    this.images.set(this.loads.id, this.loads);
    return this.loads.id;
  }

  /** An image on the engine, known by its id and by `refs`. */
  has(info: ImageInfo, ...refs: string[]): void {
    for (const r of [info.id, ...refs]) this.images.set(r, info);
  }
}

/** Which app owns which image id, from a fake engine image list (the real walk over it). */
export class FakeOwnership {
  list: ImageListEntry[] = [];
  reads = 0;
  async owners(): Promise<ImageOwners> {
    this.reads++;
    return new ImageOwners(this.list);
  }
}

/** An image deploy that records what it was asked and makes release v`next` of it. */
export class FakeImageRelease implements Pick<ImageRelease, 'deploy'> {
  readonly deployed: { app: string; image: { ref: string } & ImageInfo }[] = [];
  next = 2;
  async deploy(app: string, image: { ref: string } & ImageInfo, stage: StageOutput): Promise<Release> {
    this.deployed.push({ app, image });
    stage.info(`released ${image.id}`);
    return release(app, this.next++, { image: image.id, sourceImage: image.id });
  }
}

/** A push rebuild that returns `code` (null: nothing pushed) and records who asked, for which repo. */
export class FakePush implements Pick<PushDeploy, 'rebuild'> {
  readonly rebuilds: string[] = [];
  code: number | null = 0;
  async rebuild(app: string, repoDir: string, by: { keyName: string }): Promise<number | null> {
    this.rebuilds.push(`${app} ${repoDir} by ${by.keyName}`);
    return this.code;
  }
}

/** The proxy's traffic controls: the apps it routes take controls; others answer service-not-found. */
export class FakeTrafficProxy {
  readonly sent: { service: string; controls: TrafficControls }[] = [];
  readonly routed = new Map<string, ServiceInfo>();
  down: Error | null = null;

  async setControls(service: string, controls: TrafficControls): Promise<unknown> {
    if (this.down) throw this.down;
    if (!this.routed.has(service)) throw ProxyErrors.serviceNotFound(`no service '${service}'`);
    this.sent.push({ service, controls });
    return {};
  }

  async report(): Promise<ProxyReport> {
    return {
      status: { pid: 7, httpPort: 80, httpsPort: 443, services: this.routed.size },
      clients: 0,
      services: [...this.routed.values()],
    };
  }

  /** A route for `app`, with the controls the proxy holds. */
  route(app: string, over: Partial<ServiceInfo> = {}): ServiceInfo {
    const info: ServiceInfo = {
      name: app,
      hosts: [`${app}.example.test`],
      targets: ['10.0.0.1:5000'],
      inflight: {},
      healthy: {},
      connections: {},
      maintenance: null,
      pausedUntil: null,
      maxBodyBytes: null,
      ...over,
    };
    this.routed.set(app, info);
    return info;
  }
}

/** The app every service test starts from (services-setup.ts). */
export { liveApp };
