import type { ContainerInfo } from '../../runtime/container-spec.js';
import { SWARM_LABELS } from './swarm-service-spec.js';

/** The fields of a Swarm service, task and node paas reads (the Engine API's shapes, narrowed). */
export interface SwarmService {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string>; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
}
export interface SwarmTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: {
    Timestamp?: string;
    State?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: Array<{ TargetPort?: number; PublishedPort?: number }> };
  };
}
export interface SwarmNode {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string>; Role?: string; Availability?: string };
  Description?: { Hostname?: string; Platform?: { OS?: string; Architecture?: string }; Engine?: { Labels?: Record<string, string> } };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string; Leader?: boolean };
}

/** Task states before `running`: the replica is on its way (first start, a restart, a reschedule after a node died). */
const STARTING = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);

/**
 * A replica Swarm is bringing (back) up: its task is starting, or waits out the restart delay
 * (desired state `ready` until the delay ends: a crash, or its node went down), or its old task
 * still runs but Swarm wants it gone (the replacement is not created yet). Not one whose task
 * failed and that Swarm gave up on (restart condition none, or its attempts used up): had paas
 * taken a replica in its restart delay for that, it would have removed it and started another.
 */
function onTheWay(t: SwarmTask | undefined): boolean {
  const state = t?.Status?.State ?? '';
  return (STARTING.has(state) && (t?.DesiredState === 'running' || t?.DesiredState === 'ready')) || state === 'running';
}

/** The node's address tasks' host-mode ports are reached at; a manager may report 0.0.0.0 as its own. */
export function nodeAddress(n: SwarmNode): string | null {
  const addr = n.Status?.Addr;
  if (addr && addr !== '0.0.0.0') return addr;
  const mgr = n.ManagerStatus?.Addr;
  return mgr ? mgr.replace(/:\d+$/, '') : null;
}

/** paas's own name of a node (label `paas.name`, set by cluster:init and nodes:add), else its Swarm name, else its hostname. */
export function nodeName(n: SwarmNode): string {
  return n.Spec?.Labels?.['paas.name'] || n.Spec?.Name || n.Description?.Hostname || n.ID.slice(0, 12);
}

/** The task that stands for the replica now: the newest one Swarm wants running, else the newest. */
export function currentTask(tasks: SwarmTask[]): SwarmTask | undefined {
  const newest = [...tasks].sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''));
  return newest.find((t) => t.DesiredState === 'running') ?? newest[0];
}

/** The published host port of a running task for `target` (entries may repeat). */
export function publishedPort(t: SwarmTask | undefined, target: number): number | null {
  const p = t?.Status?.PortStatus?.Ports?.find((x) => x.TargetPort === target && x.PublishedPort);
  return p?.PublishedPort ?? null;
}

/**
 * One replica (a service of one task) as the deploy pipeline sees a container: its id is the
 * service's (stable across Swarm's restarts and reschedules), its address `node-address` and its
 * port the task's published host port, both null until the task runs. State: `running`;
 * `restarting` while a task is on its way (routed once it runs); `exited` when Swarm gave up.
 */
export function replicaInfo(service: SwarmService, tasks: SwarmTask[], nodes: Map<string, SwarmNode>): ContainerInfo {
  const labels = service.Spec?.Labels ?? {};
  const target = Number(labels[SWARM_LABELS.port] ?? 0);
  const t = currentTask(tasks);
  const state = t?.Status?.State ?? 'new';
  const running = state === 'running' && t?.DesiredState === 'running';
  const node = t?.NodeID ? nodes.get(t.NodeID) : undefined;
  const port = running ? publishedPort(t, target) : null;
  const addr = running && node && port ? nodeAddress(node) : null;
  return {
    id: service.ID,
    name: service.Spec?.Name ?? service.ID,
    app: labels[SWARM_LABELS.app] ?? '',
    process: labels[SWARM_LABELS.process] ?? '',
    release: Number(labels[SWARM_LABELS.release] ?? 0),
    replica: Number(labels[SWARM_LABELS.replica] ?? 0),
    ip: addr,
    port: addr ? (port ?? target) : target,
    state: running ? 'running' : onTheWay(t) ? 'restarting' : t ? 'exited' : 'created',
    startedAt: running ? (t?.Status?.Timestamp ?? null) : null,
    restartCount: Math.max(0, tasks.length - 1),
    image: service.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    exitCode: t?.Status?.ContainerStatus?.ExitCode ?? 0,
    oneOff: false,
    node: node ? nodeName(node) : null,
  };
}
