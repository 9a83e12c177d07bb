import type { ContainerStats } from '../runtime/container-stats.js';
import type { DockerEvent } from '../runtime/docker-events.js';
import type { RuntimePort } from './adapter-interfaces.js';

/** Where an app's replicas run: containers on this engine, or services on the Swarm. */
export type SchedulerName = 'local' | 'swarm';
export const SCHEDULER_NAMES: readonly SchedulerName[] = ['local', 'swarm'];

/**
 * "Run these replicas of this release": what Rollout, the cutover, recovery and the services
 * call, whatever runs them. The local scheduler is the container runtime as it always was; the
 * Swarm one (src/swarm/scheduler) runs each replica as a Swarm service and reports it in the same
 * shape (a replica's address is `node-address:published-port`, its `node` set). Callers never
 * branch on which one they have.
 */
export interface SchedulerPort extends RuntimePort {
  stats(id: string): Promise<ContainerStats>;
  events(onEvent: (e: DockerEvent) => void, signal: AbortSignal, onConnect?: (reconnected: boolean) => void): void;
  isOwnEvent(e: Pick<DockerEvent, 'id' | 'action'>): boolean;
}
