/**
 * What the deploy pipeline needs from the runtime and the proxy, as narrow interfaces: the real
 * ContainerRuntime and ProxyClient satisfy them, and a unit test can hand in fakes.
 */
import type { ContainerInfo, ContainerSpec } from '../runtime/container-spec.js';
import type { ListeningOptions, ListeningResult } from '../runtime/port-listening.js';
import type { Release } from '../state/releases-repository.js';
import type { AppSettingsSnapshot } from './settings-schema.js';
import type { StoragePolicy } from './storage-mounts.js';
import type { ServiceSpecInput } from '../proxy/routing/service-spec.js';

export type { ContainerInfo, ContainerSpec };

export interface RuntimePort {
  /** the app's own network (`paas-<app>`) */
  ensureNetwork(app?: string): Promise<void>;
  start(spec: ContainerSpec): Promise<ContainerInfo>;
  waitUp(id: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** until the container accepts connections on its port: 'listening', or why not */
  waitListening(c: Pick<ContainerInfo, 'ip' | 'port'>, opts: ListeningOptions): Promise<ListeningResult>;
  stop(id: string, graceSeconds?: number): Promise<void>;
  /** freezes a container (a warm release); `unpause` thaws it */
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  list(filter?: { app?: string; process?: string; release?: number }): Promise<ContainerInfo[]>;
  logsTail(id: string, lines: number): Promise<string>;
  removeImages(tags: string[]): Promise<unknown>;
  pruneDanglingImages(olderThan?: string): Promise<unknown>;
  imageExists(image: string): Promise<boolean>;
  /** removes the app's network (apps:destroy); never throws */
  removeNetwork(app: string): Promise<boolean>;
}

/** What a rollout sends the proxy for an app: the proxy's own input type, with the health check always given. */
export type ProxyDeploySpec = ServiceSpecInput & { healthCheck: NonNullable<ServiceSpecInput['healthCheck']> };

export interface ProxyPort {
  deploy(service: string, spec: ProxyDeploySpec): Promise<{ drainedMs: number }>;
  remove(service: string): Promise<unknown>;
}

/** What a rollout reads about an app: its live release, formation, hosts, and one settings snapshot. */
export interface RolloutStore {
  current(app: string): Release | undefined;
  formation(app: string): Record<string, number>;
  /** `<app>.<global domain>` first, then the custom domains */
  hosts(app: string): string[];
  settings(app: string): AppSettingsSnapshot;
  /** the global default memory limit (`resource:set-global memory`) for processes without their own; absent or null: none */
  defaultMemory?(): number | null;
  /** the data dir, the allowed roots (`storage:allow-root`) and every app's binds, to check each bind again before a container starts (required: a wiring slip must not skip the checks) */
  storagePolicy(): StoragePolicy;
}
