import type { Writable } from 'node:stream';
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

/** Everything that changes what runs; each goes through the deploy pipeline. Implemented in deploy/. */
export interface Operations {
  containers(app: string): Promise<ContainerView[]>;
  /** re-sends the app's hosts to the proxy after a domain change */
  reroute(app: string): Promise<void>;
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
  ops: Operations;
}
