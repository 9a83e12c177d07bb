// Fakes of the deploy pipeline's ports (runtime, proxy, rollout store) for unit tests: in memory,
// recording every call in order, with switches to make a container crash or the proxy refuse.
import { Writable } from 'node:stream';
import type {
  ContainerInfo,
  ContainerSpec,
  ProxyDeploySpec,
  ProxyPort,
  RolloutStore,
  RuntimePort,
} from '../../../src/deploy/adapter-interfaces.js';
import { type AppSettingsSnapshot, snapshotOf } from '../../../src/deploy/settings-schema.js';
import type { Release } from '../../../src/state/releases-repository.js';
import type { StoragePolicy } from '../../../src/deploy/storage-mounts.js';

export class FakeRuntime implements RuntimePort {
  readonly calls: string[] = [];
  readonly containers = new Map<string, ContainerInfo>();
  readonly specs: ContainerSpec[] = [];
  private next = 1;
  /** container names that crash while the rollout waits for them */
  crashing = new Set<string>();
  /** container names whose port refuses every connection */
  deaf = new Set<string>();
  /** container names that crash this many ms into the crash watch (within the stability window) */
  crashAfter = new Map<string, number>();
  /** container names that die before Docker gives them an address (their port check ends at once) */
  addressless = new Set<string>();
  removedImages: string[] = [];
  images = new Set<string>();

  readonly removedNetworks: string[] = [];

  async ensureNetwork(): Promise<void> {}

  async removeNetwork(app: string): Promise<boolean> {
    this.removedNetworks.push(app);
    return true;
  }

  async start(spec: ContainerSpec): Promise<ContainerInfo> {
    const n = this.next++;
    const name = `${spec.app}.${spec.process}.${spec.replica}.v${spec.release}`;
    const c: ContainerInfo = {
      id: `c${n}`,
      name,
      app: spec.app,
      process: spec.process,
      release: spec.release,
      replica: spec.replica,
      ip: this.addressless.has(name) ? null : `10.0.0.${n}`,
      port: spec.port,
      state: 'running',
      startedAt: new Date().toISOString(),
      restartCount: 0,
      image: spec.image,
      exitCode: 0,
      oneOff: false,
    };
    this.specs.push(spec);
    this.containers.set(c.id, c);
    this.calls.push(`start ${name}`);
    return c;
  }

  async waitUp(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    const c = this.containers.get(id)!;
    if (this.crashing.has(c.name)) {
      const err = Object.assign(new Error(`container ${c.name} exited during boot (exit code 1)`), { code: 'PAAS_ERR_RUNTIME_CRASHED' });
      throw err;
    }
    const after = this.crashAfter.get(c.name);
    if (after !== undefined) {
      await new Promise((r) => setTimeout(r, after));
      if (!signal?.aborted)
        throw Object.assign(new Error(`container ${c.name} exited (exit code 2)`), { code: 'PAAS_ERR_RUNTIME_CRASHED' });
    }
    if (ms > 60_000) {
      // the crash watch during the health gate: runs until aborted
      await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    }
  }

  async waitListening(c: { ip: string | null }): Promise<'listening' | 'refused' | 'deadline'> {
    if (!c.ip) return 'deadline';
    const info = [...this.containers.values()].find((x) => x.ip === c.ip);
    return info && this.deaf.has(info.name) ? 'refused' : 'listening';
  }

  async stop(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c) this.calls.push(`stop ${c.name}`);
    this.containers.delete(id);
  }

  async pause(id: string): Promise<void> {
    const c = this.containers.get(id)!;
    this.calls.push(`pause ${c.name}`);
    c.state = 'paused';
  }

  async unpause(id: string): Promise<void> {
    const c = this.containers.get(id)!;
    this.calls.push(`unpause ${c.name}`);
    c.state = 'running';
  }

  async list(filter: { app?: string; process?: string; release?: number } = {}): Promise<ContainerInfo[]> {
    return [...this.containers.values()].filter(
      (c) =>
        (!filter.app || c.app === filter.app) &&
        (!filter.process || c.process === filter.process) &&
        (filter.release === undefined || c.release === filter.release),
    );
  }

  async logsTail(): Promise<string> {
    return 'boom\n';
  }

  async removeImages(tags: string[]): Promise<void> {
    this.removedImages.push(...tags);
  }

  async pruneDanglingImages(): Promise<void> {}

  async imageExists(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  running(app: string): string[] {
    return [...this.containers.values()].filter((c) => c.app === app).map((c) => c.name);
  }
}

export class FakeProxy implements ProxyPort {
  readonly deploys: { service: string; spec: ProxyDeploySpec }[] = [];
  readonly removed: string[] = [];
  /** when set, deploy() rejects with this message (the health gate failed) */
  refuse: string | null = null;
  /** runs at the moment traffic would switch, before deploy() resolves */
  onDeploy: (() => void) | null = null;

  async deploy(service: string, spec: ProxyDeploySpec): Promise<{ drainedMs: number }> {
    this.onDeploy?.();
    if (this.refuse) throw new Error(this.refuse);
    this.deploys.push({ service, spec });
    return { drainedMs: 3 };
  }

  async remove(service: string): Promise<void> {
    this.removed.push(service);
  }
}

export class FakeStore implements RolloutStore {
  releases = new Map<string, Release>();
  formations = new Map<string, Record<string, number>>();
  stored: Record<string, string> = {};
  settingsReads = 0;
  /** the global default memory limit; absent: none */
  defaultMemory?: () => number | null;

  current(app: string): Release | undefined {
    return this.releases.get(app);
  }
  formation(app: string): Record<string, number> {
    return { ...(this.formations.get(app) ?? {}) };
  }
  hosts(app: string): string[] {
    return [`${app}.example.test`];
  }
  /** no mounts in the fakes' settings, so nothing is checked against it */
  storagePolicy(): StoragePolicy {
    return { dataDir: '/nonexistent/paas-data', allowedRoots: [], allBinds: [] };
  }
  settings(): AppSettingsSnapshot {
    this.settingsReads++;
    return snapshotOf(this.stored);
  }
}

export function release(app: string, version: number, over: Partial<Release> = {}): Release {
  return {
    app,
    version,
    image: `paas/${app}:v${version}`,
    commitSha: null,
    description: `v${version}`,
    config: {},
    formation: { web: 1 },
    status: 'live',
    builder: 'dockerfile',
    timings: {},
    processes: {},
    port: 5000,
    appChecks: null,
    sourceImage: null,
    formationLock: null,
    createdAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

/** A Writable that keeps what was written. */
export class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}
