import type Dockerode from 'dockerode';
import type { Logger } from '../../log/logger.js';
import type { SwarmNodeRow, SwarmNodesRepository } from '../../state/swarm-nodes-repository.js';
import type { RegistryFiles } from '../registry/registry-files.js';
import { ClusterErrors } from './cluster-errors.js';
import { type ClusterService, checkNodeName, dockerMessage, type SwarmNode } from './cluster-service.js';
import { checkPorts, ensureDocker, ensureNotInSwarm, joinSwarm, lastLine, trustRegistry } from './node-join.js';
import { NodeShell } from './node-shell.js';
import { hostPort, parseSshUrl } from './ssh-url.js';

/** The label key paas's Swarm services (and their tasks' containers) carry with the app's name. */
export const APP_LABEL = 'paas.app';

/** One row of nodes:list. */
export interface NodeInfo {
  name: string;
  id: string;
  address: string;
  role: string;
  state: string;
  availability: string;
  leader: boolean;
  /** the paas apps with a running task on it */
  apps: string[];
  tasks: number;
  memoryBytes: number;
  /** memory not reserved by the running tasks (what Swarm can still place there) */
  freeMemoryBytes: number;
  labels: Record<string, string>;
}

interface Task {
  NodeID?: string;
  ServiceID?: string;
  Status?: { State?: string };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> }; Resources?: { Reservations?: { MemoryBytes?: number } } };
}

export interface NodeServiceDeps {
  docker: Dockerode;
  nodes: SwarmNodesRepository;
  cluster: ClusterService;
  registryFiles: RegistryFiles;
  log: Logger;
}

/** nodes:add, nodes:list, nodes:drain, nodes:activate, nodes:label and nodes:remove. */
export class NodeService {
  constructor(private readonly d: NodeServiceDeps) {}

  async add(name: string, url: string, progress: (line: string) => void): Promise<SwarmNodeRow> {
    checkNodeName(name);
    const target = parseSshUrl(url);
    const cluster = this.d.cluster.require();
    if (this.d.nodes.byName(name)) throw ClusterErrors.nodeExists(`a node named ${name} exists already`);
    const same = this.d.nodes.list().find((n) => n.ssh_url && hostPort(parseSshUrl(n.ssh_url)) === hostPort(target));
    if (same) throw ClusterErrors.nodeExists(`${hostPort(target)} is already node ${same.name}`);
    const registry = this.d.registryFiles.endpoint();
    if (!registry) throw ClusterErrors.notInitialized('the registry is not prepared: run cluster:init again');
    let token: string;
    try {
      token = ((await this.d.docker.swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
    } catch (err) {
      throw ClusterErrors.foreignSwarm(`paas's engine is no longer a Swarm manager (${dockerMessage(err)}): run cluster:init`, err);
    }
    const known = new Set(((await this.d.docker.listNodes()) as SwarmNode[]).map((n) => n.ID));
    const shell = await NodeShell.connect(target, this.d.cluster.sshKey().privateKey, this.d.nodes);
    let nodeId: string;
    try {
      progress(`Connected to ${name} (${target.user}@${hostPort(target)})`);
      const version = await ensureDocker(shell, name, progress);
      progress(`Docker ${version} runs on ${name}`);
      await ensureNotInSwarm(shell, name, target.host, known);
      await checkPorts(shell, name, cluster.advertiseAddr, registry);
      progress(`Ports open: 2377/tcp, 7946/tcp+udp, 4789/udp and the registry's (${registry.address})`);
      await trustRegistry(shell, name, registry);
      nodeId = await joinSwarm(shell, name, token, cluster.advertiseAddr);
    } finally {
      shell.close();
    }
    await this.d.cluster.label(nodeId, { 'paas.name': name });
    const row = { name, node_id: nodeId, ssh_url: url, address: target.host };
    this.d.nodes.add(row);
    await this.waitState(nodeId, 'ready', 30_000);
    this.d.log.info({ node: name, id: nodeId, address: target.host }, 'node joined');
    progress(`${name} joined the Swarm as a worker (node ${nodeId.slice(0, 12)})`);
    return this.d.nodes.byName(name)!;
  }

  private async waitState(nodeId: string, state: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const node = (await this.d.docker.getNode(nodeId).inspect()) as SwarmNode;
      if (node.Status?.State === state) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  async list(): Promise<NodeInfo[]> {
    this.d.cluster.require();
    const [nodes, tasks, appOf] = await Promise.all([
      this.d.docker.listNodes() as Promise<SwarmNode[]>,
      this.d.docker.listTasks({ filters: { 'desired-state': ['running'] } }) as Promise<Task[]>,
      this.serviceApps(),
    ]);
    const rows = new Map(this.d.nodes.list().map((r) => [r.node_id, r]));
    return nodes.map((n) => {
      const mine = tasks.filter((t) => t.NodeID === n.ID && t.Status?.State === 'running');
      const apps = new Set(mine.map((t) => taskApp(t, appOf)).filter((a): a is string => a !== undefined));
      const total = n.Description?.Resources?.MemoryBytes ?? 0;
      const reserved = mine.reduce((sum, t) => sum + (t.Spec?.Resources?.Reservations?.MemoryBytes ?? 0), 0);
      const statusAddr = n.Status?.Addr && n.Status.Addr !== '0.0.0.0' ? n.Status.Addr : undefined;
      const managerAddr = n.ManagerStatus?.Addr?.replace(/:\d+$/, '');
      const labels = { ...(n.Spec.Labels ?? {}) };
      return {
        name: labels['paas.name'] ?? rows.get(n.ID)?.name ?? n.Description?.Hostname ?? n.ID.slice(0, 12),
        id: n.ID,
        address: statusAddr ?? managerAddr ?? rows.get(n.ID)?.address ?? '',
        role: n.Spec.Role,
        state: n.Status?.State ?? 'unknown',
        availability: n.Spec.Availability,
        leader: n.ManagerStatus?.Leader === true,
        apps: [...apps].sort(),
        tasks: mine.length,
        memoryBytes: total,
        freeMemoryBytes: Math.max(0, total - reserved),
        labels,
      };
    });
  }

  /** service ID -> app, for tasks whose containers lack the label. */
  private async serviceApps(): Promise<Map<string, string>> {
    const services = (await this.d.docker.listServices({ filters: { label: [APP_LABEL] } })) as {
      ID: string;
      Spec?: { Labels?: Record<string, string> };
    }[];
    return new Map(services.map((s) => [s.ID, s.Spec?.Labels?.[APP_LABEL] ?? '']));
  }

  private node(name: string): SwarmNodeRow {
    this.d.cluster.require();
    const row = this.d.nodes.byName(name);
    if (!row) throw ClusterErrors.nodeNotFound(`no node named '${name}' (see nodes:list)`);
    return row;
  }

  async setAvailability(name: string, availability: 'drain' | 'active'): Promise<void> {
    const row = this.node(name);
    const node = this.d.docker.getNode(row.node_id);
    const spec = (await node.inspect()) as SwarmNode;
    await node.update({ version: spec.Version.Index, ...spec.Spec, Availability: availability });
  }

  /** nodes:label NAME K=V (`K=` removes K); keys starting with `paas.` are paas's own. */
  async label(name: string, pair: string): Promise<void> {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/.test(key) || /[\s\0]/.test(pair))
      throw ClusterErrors.usage(`bad label '${pair}': expected KEY=VALUE (letters, digits, '.', '_', '-' in KEY; KEY= removes it)`);
    if (key.startsWith('paas.')) throw ClusterErrors.usage(`label keys starting with 'paas.' are paas's own`);
    const row = this.node(name);
    await this.d.cluster.label(row.node_id, { [key]: pair.slice(eq + 1) });
  }

  /**
   * Refuses while the node runs the only running replicas of an app; else drains it, makes it
   * leave the Swarm over SSH and removes it from the manager's list.
   */
  async remove(name: string, progress: (line: string) => void): Promise<void> {
    const row = this.node(name);
    if (row.ssh_url === null) throw ClusterErrors.removeRefused(`${name} is the manager (paas's own engine) and cannot be removed`);
    const exists = await this.d.docker
      .getNode(row.node_id)
      .inspect()
      .then(() => true)
      .catch(() => false);
    if (exists) {
      const [tasks, appOf] = await Promise.all([
        this.d.docker.listTasks({ filters: { 'desired-state': ['running'] } }) as Promise<Task[]>,
        this.serviceApps(),
      ]);
      const where = new Map<string, Set<string>>();
      for (const t of tasks) {
        const app = taskApp(t, appOf);
        if (app === undefined || t.Status?.State !== 'running' || !t.NodeID) continue;
        where.set(app, (where.get(app) ?? new Set()).add(t.NodeID));
      }
      const only = [...where].filter(([, nodes]) => nodes.size === 1 && nodes.has(row.node_id)).map(([app]) => app);
      if (only.length > 0)
        throw ClusterErrors.removeRefused(
          `${name} runs the only replicas of ${only.sort().join(', ')}: scale ${only.length > 1 ? 'them' : 'it'} up or drain ${name} (nodes:drain ${name}) first`,
        );
      await this.setAvailability(name, 'drain');
      // a worker that left is removed at once (--force: the manager would see it down only after its heartbeat)
      await this.leave(row, progress);
      try {
        await this.d.docker.getNode(row.node_id).remove({ force: true });
      } catch (err) {
        this.d.log.warn({ node: name, err: dockerMessage(err) }, 'removing the node from the swarm failed');
      }
    }
    this.d.nodes.remove(name);
    this.d.log.info({ node: name, id: row.node_id }, 'node removed');
  }

  private async leave(row: SwarmNodeRow, progress: (line: string) => void): Promise<void> {
    try {
      const shell = await NodeShell.connect(parseSshUrl(row.ssh_url!), this.d.cluster.sshKey().privateKey, this.d.nodes);
      try {
        const r = await shell.exec('docker swarm leave', { timeoutMs: 60_000 });
        if (r.code !== 0) progress(`${row.name}: docker swarm leave failed (${lastLine(r.stderr)}); removed from the cluster anyway`);
      } finally {
        shell.close();
      }
    } catch (err) {
      progress(
        `${row.name} could not be reached (${(err as Error).message}); removed from the cluster anyway: run 'docker swarm leave' there`,
      );
    }
  }
}

function taskApp(t: Task, appOf: Map<string, string>): string | undefined {
  return t.Spec?.ContainerSpec?.Labels?.[APP_LABEL] || (t.ServiceID ? appOf.get(t.ServiceID) : undefined) || undefined;
}
