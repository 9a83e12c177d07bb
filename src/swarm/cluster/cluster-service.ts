import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type Dockerode from 'dockerode';
import type { Logger } from '../../log/logger.js';
import type { SwarmNodesRepository } from '../../state/swarm-nodes-repository.js';
import { RegistryErrors } from '../registry/registry-errors.js';
import { type RegistryEndpoint, RegistryFiles } from '../registry/registry-files.js';
import { ClusterErrors } from './cluster-errors.js';
import { type ClusterKey, ensureClusterKey } from './cluster-key.js';

/** Global settings where paas records the Swarm it made. */
export interface ClusterSettings {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** What cluster:init and nodes:add need of the registry's process. */
export interface RegistryRunner {
  /** (re)starts it on the prepared config when the server supervises it; false in `paas admin` */
  restart(endpoint: RegistryEndpoint): Promise<boolean>;
  /** starts it if it is not running; true when it runs */
  ensure(endpoint: RegistryEndpoint): Promise<boolean>;
}

export interface ClusterFacts {
  clusterId: string;
  managerNodeId: string;
  /** the address the manager advertises (nodes reach it on 2377 and 7946) */
  advertiseAddr: string;
}

export interface InitResult extends ClusterFacts {
  created: boolean;
  /** the Swarm's dispatcher heartbeat in seconds (HEARTBEAT_SECONDS once init has run) */
  heartbeatSeconds: number;
  registry: string;
  registryRunning: boolean;
}

export interface ClusterServiceDeps {
  docker: Dockerode;
  nodes: SwarmNodesRepository;
  settings: ClusterSettings;
  keysDir: string;
  registryFiles: RegistryFiles;
  registry: RegistryRunner;
  /** `ADDR:PORT` the registry listens on (PAAS_REGISTRY_LISTEN); default the advertise address, port 5000 */
  registryListen: string | undefined;
  /** where engines look for a registry's CA (`/etc/docker/certs.d`) */
  certsDir: string;
  log: Logger;
}

/**
 * The dispatcher heartbeat paas gives its Swarm: nodes report to the manager every second, and
 * Swarm marks a node down after about three missed heartbeats (3 to 4.5 s; with Swarm's default
 * of 5 s, 15 to 16.5 s), the moment it moves that node's tasks. The cost is one small gRPC
 * message per node per second; a network pause of over about 3 s makes Swarm move that node's
 * tasks, which paas's health-gated routing turns into restarts, not failed requests.
 */
export const HEARTBEAT_SECONDS = 1;
const HEARTBEAT_NS = HEARTBEAT_SECONDS * 1e9;

const KEYS = { cluster: 'swarm.cluster-id', node: 'swarm.manager-node-id', addr: 'swarm.advertise-addr' };
const NODE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** `host:port`, IPv6 in brackets. */
export function joinHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

export function checkNodeName(name: string): void {
  if (!NODE_NAME.test(name))
    throw ClusterErrors.usage(`bad node name '${name}': lowercase letters, digits and dashes, starting with a letter (at most 32)`);
}

/**
 * `cluster:init` and `nodes:ssh-key`: makes paas's engine the manager of a Swarm paas records as
 * its own, prepares the registry beside it, and holds paas's SSH key for the nodes. A Swarm paas
 * did not make is refused, never adopted: paas would otherwise schedule onto machines it never
 * prepared (registry trust, ports) and remove nodes someone else manages.
 */
export class ClusterService {
  constructor(private readonly d: ClusterServiceDeps) {}

  sshKey(): ClusterKey {
    return ensureClusterKey(this.d.keysDir);
  }

  /** The Swarm paas made, or null before cluster:init. */
  facts(): ClusterFacts | null {
    const s = this.d.settings;
    const clusterId = s.get(KEYS.cluster);
    const managerNodeId = s.get(KEYS.node);
    const advertiseAddr = s.get(KEYS.addr);
    return clusterId && managerNodeId && advertiseAddr ? { clusterId, managerNodeId, advertiseAddr } : null;
  }

  /** The cluster, or a clear refusal when cluster:init has not run. */
  require(): ClusterFacts {
    const f = this.facts();
    if (!f) throw ClusterErrors.notInitialized('this paas has no cluster yet: run cluster:init first');
    return f;
  }

  async init(opts: { advertiseAddr?: string }): Promise<InitResult> {
    const wanted = opts.advertiseAddr;
    if (wanted !== undefined && !net.isIP(wanted))
      throw ClusterErrors.usage(`bad --advertise-addr '${wanted}': give an IP address of this host`);
    const missing = await RegistryFiles.missingPackages();
    if (missing.length > 0)
      throw RegistryErrors.unavailable(
        `paas's registry needs the Debian packages ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`,
      );
    const info = (await this.d.docker.info()) as DockerInfo;
    const swarm = info.Swarm ?? {};
    const mine = this.facts();
    let created = false;
    if (swarm.LocalNodeState && swarm.LocalNodeState !== 'inactive') {
      const ours = mine && swarm.Cluster?.ID === mine.clusterId && swarm.NodeID === mine.managerNodeId;
      if (!ours) {
        const role = swarm.ControlAvailable ? 'a manager' : 'a worker';
        throw ClusterErrors.foreignSwarm(
          `this engine is already ${role} of a Swarm paas did not create${swarm.Cluster?.ID ? ` (cluster ${swarm.Cluster.ID.slice(0, 12)})` : ''}: paas does not adopt it; run 'docker swarm leave --force' on that engine first, or use another engine`,
        );
      }
      if (wanted !== undefined && wanted !== mine.advertiseAddr)
        throw ClusterErrors.initFailed(
          `the cluster already advertises ${mine.advertiseAddr}; it cannot move to ${wanted} (nodes joined it there)`,
        );
    } else {
      if (mine) {
        // paas's Swarm is gone from its engine (left or reset): its nodes went with it
        this.d.log.warn({ cluster: mine.clusterId }, "paas's Swarm is gone from its engine; making a new one");
        for (const n of this.d.nodes.list()) this.d.nodes.remove(n.name);
      }
      try {
        await this.d.docker.swarmInit({
          ListenAddr: '0.0.0.0:2377',
          ...(wanted ? { AdvertiseAddr: wanted } : {}),
          Spec: { Dispatcher: { HeartbeatPeriod: HEARTBEAT_NS } },
        });
      } catch (err) {
        const why = dockerMessage(err);
        const hint = /advertise/i.test(why) && !wanted ? ' (give --advertise-addr ADDR)' : '';
        throw ClusterErrors.initFailed(`docker swarm init failed: ${why}${hint}`, err);
      }
      created = true;
    }
    const now = ((await this.d.docker.info()) as DockerInfo).Swarm ?? {};
    const facts: ClusterFacts = {
      clusterId: now.Cluster?.ID ?? '',
      managerNodeId: now.NodeID ?? '',
      advertiseAddr: mine && !created ? mine.advertiseAddr : (wanted ?? now.NodeAddr ?? ''),
    };
    if (created) {
      this.d.settings.set(KEYS.cluster, facts.clusterId);
      this.d.settings.set(KEYS.node, facts.managerNodeId);
      this.d.settings.set(KEYS.addr, facts.advertiseAddr);
      const name = info.Name && NODE_NAME.test(info.Name) ? info.Name : 'manager';
      await this.label(facts.managerNodeId, { 'paas.name': name });
      this.d.nodes.add({ name, node_id: facts.managerNodeId, ssh_url: null, address: facts.advertiseAddr });
      this.d.log.info({ cluster: facts.clusterId, addr: facts.advertiseAddr }, 'swarm initialized');
    }
    const heartbeatSeconds = await this.ensureHeartbeat();
    const endpoint = await this.prepareRegistry(facts.advertiseAddr);
    const registryRunning = created ? await this.d.registry.restart(endpoint) : await this.d.registry.ensure(endpoint);
    return { ...facts, created, registry: endpoint.address, registryRunning, heartbeatSeconds };
  }

  /** Sets paas's dispatcher heartbeat on its Swarm when it differs (a Swarm made by an older paas, or changed by hand). */
  private async ensureHeartbeat(): Promise<number> {
    const swarm = (await this.d.docker.swarmInspect()) as { Version: { Index: number }; Spec: SwarmSpec };
    if (swarm.Spec.Dispatcher?.HeartbeatPeriod === HEARTBEAT_NS) return HEARTBEAT_SECONDS;
    const spec = { ...swarm.Spec, Dispatcher: { ...swarm.Spec.Dispatcher, HeartbeatPeriod: HEARTBEAT_NS } };
    try {
      await this.d.docker.swarmUpdate({ _query: { version: swarm.Version.Index }, _body: spec });
    } catch (err) {
      throw ClusterErrors.initFailed(`cannot set the Swarm's node heartbeat: ${dockerMessage(err)}`, err);
    }
    this.d.log.info({ heartbeatSeconds: HEARTBEAT_SECONDS }, 'swarm dispatcher heartbeat set');
    return HEARTBEAT_SECONDS;
  }

  /** The registry's files for the cluster's address, its CA trusted by this host's engine. */
  private async prepareRegistry(advertiseAddr: string): Promise<RegistryEndpoint> {
    const address = this.d.registryListen ?? joinHostPort(advertiseAddr, 5000);
    const endpoint = await this.d.registryFiles.prepare(address);
    const dir = path.join(this.d.certsDir, endpoint.address);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'ca.crt'), endpoint.caPem);
    return endpoint;
  }

  /** Merges `labels` into a Swarm node's labels (an empty value removes the label). */
  async label(nodeId: string, labels: Record<string, string>): Promise<void> {
    const node = this.d.docker.getNode(nodeId);
    const spec = (await node.inspect()) as SwarmNode;
    const merged: Record<string, string> = { ...(spec.Spec.Labels ?? {}) };
    for (const [k, v] of Object.entries(labels)) {
      if (v === '') delete merged[k];
      else merged[k] = v;
    }
    await node.update({ version: spec.Version.Index, ...spec.Spec, Labels: merged });
  }
}

/** The part of `docker info` paas reads. */
export interface DockerInfo {
  Name?: string;
  Swarm?: {
    LocalNodeState?: string;
    NodeID?: string;
    NodeAddr?: string;
    ControlAvailable?: boolean;
    Cluster?: { ID?: string };
  };
}

/** The part of the Swarm's spec paas changes (the rest is sent back as it was). */
interface SwarmSpec {
  Dispatcher?: { HeartbeatPeriod?: number };
  [key: string]: unknown;
}

/** The part of a Swarm node paas reads and updates. */
export interface SwarmNode {
  ID: string;
  Version: { Index: number };
  Spec: { Name?: string; Role: string; Availability: string; Labels?: Record<string, string> };
  Description?: { Hostname?: string; Resources?: { MemoryBytes?: number; NanoCPUs?: number } };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Addr?: string; Reachability?: string };
}

/** The engine's own message from a dockerode error (its JSON body), else the error's. */
export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return (e.json?.message ?? e.message ?? String(err)).trim();
}
