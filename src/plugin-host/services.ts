import type { Writable } from 'node:stream';
import type { HealthCheckSettings } from '../deploy/app-json.js';
import type { State } from '../state/state.js';
import type { CommandRegistry } from './command-registry.js';
import type { TriggerBus } from './trigger-bus.js';

/** Creating and destroying apps: repo, state, containers, routes. Implemented in deploy/. */
export interface AppLifecycle {
  create(app: string): Promise<void>;
  destroy(app: string, out: Writable, signal: AbortSignal): Promise<void>;
}

/** Live view of an app's containers, for info/report commands. */
export interface ContainerView {
  id: string;
  name: string;
  process: string;
  release: number;
  replica: number;
  state: string;
  ip: string | null;
  startedAt: string | null;
  restartCount: number;
}

/** What every command gets, injected by main.ts. */
export interface Services {
  state: State;
  registry: CommandRegistry;
  triggers: TriggerBus;
  version: string;
  /** the global domain: `domains:set-global` overrides the server flag */
  domain(): string;
  apps: AppLifecycle;
  /** config, releases, scale, ps, logs, run, domains */
  operations: AppOperations;
  /** the server's data dir (absolute); app storage lives in `<dataDir>/storage/<app>/` */
  dataDir: string;
}

/** One row of `ps:report`. */
export interface ContainerReport {
  id: string;
  name: string;
  process: string;
  replica: number;
  release: number;
  state: string;
  oneOff: boolean;
  ip: string | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  restarts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
}

/** What `run` hands to the one-off container. */
export interface RunIo {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  pty: { cols: number; rows: number; term: string; onResize(fn: (cols: number, rows: number) => void): void } | null;
}

/**
 * The day-to-day operations (config, releases, scale, ps, logs, run, domains); every change to
 * what runs holds the app lock and is health-gated. Implemented in deploy/operations.ts.
 */
export interface AppOperations {
  containers(app: string): Promise<ContainerView[]>;
  /** the health check the next rollout uses: defaults, the live release's app.json, then `checks:set` */
  checks(app: string): HealthCheckSettings;
  changeConfig(
    app: string,
    set: Record<string, string>,
    unset: string[],
    opts: { noRestart: boolean },
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ release: { version: number } | null; changed: string[]; rolledOut: boolean }>;
  rollback(
    app: string,
    version: number | null,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ from: number; to: { version: number }; release: { version: number } }>;
  knownProcesses(app: string): Set<string> | null;
  maxReplicas(app: string): number;
  isStopped(app: string): boolean;
  scale(
    app: string,
    changes: Record<string, number>,
    out: Writable,
    signal: AbortSignal,
  ): Promise<{ formation: Record<string, number>; applied: boolean }>;
  restart(app: string, out: Writable, signal: AbortSignal): Promise<{ version: number }>;
  stop(app: string, out: Writable, signal: AbortSignal): Promise<{ already: boolean; stopped: number }>;
  start(app: string, out: Writable, signal: AbortSignal): Promise<Record<string, number>>;
  report(app: string): Promise<ContainerReport[]>;
  logs(app: string, opts: { follow: boolean; lines: number; process: string | null }, out: Writable, signal: AbortSignal): Promise<void>;
  run(app: string, command: string, io: RunIo): Promise<number>;
  addDomain(app: string, domain: string): Promise<string>;
  removeDomain(app: string, domain: string): Promise<string>;
  setGlobalDomain(domain: string): Promise<{ domain: string; rerouted: string[]; failed: string[] }>;
}
