import path from 'node:path';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { DataPaths } from '../../config/server-config.js';
import type { Logger } from '../../log/logger.js';
import type { State } from '../../state/state.js';
import { SwarmNodesRepository } from '../../state/swarm-nodes-repository.js';
import { ClusterService } from '../../swarm/cluster/cluster-service.js';
import { NodeService } from '../../swarm/cluster/node-service.js';
import { RegistryAccess } from '../../swarm/registry/registry-access.js';
import { RegistryFiles } from '../../swarm/registry/registry-files.js';
import { RegistrySupervisor } from '../../swarm/registry/registry-supervisor.js';
import type { RuntimeBundle } from './runtime-wiring.js';

/** The Swarm cluster: paas's Swarm and its nodes, and the registry on the manager. */
export interface ClusterBundle {
  cluster: ClusterService;
  nodes: NodeService;
  /** the registry's process: the server enables it (starts it when a cluster exists) and stops it */
  registrySupervisor: RegistrySupervisor;
  /** what the Swarm scheduler pushes releases with */
  registry: RegistryAccess;
}

export function wireCluster(paths: DataPaths, state: State, rt: RuntimeBundle, knobs: ControlPlaneKnobs, log: Logger): ClusterBundle {
  const files = new RegistryFiles(path.join(path.dirname(paths.db), 'registry'));
  const nodes = new SwarmNodesRepository(state.db);
  const registrySupervisor = new RegistrySupervisor({ files, logsDir: paths.logs, log: log.child({ module: 'registry' }) });
  const cluster = new ClusterService({
    docker: rt.docker,
    nodes,
    settings: state.settings,
    keysDir: paths.keys,
    registryFiles: files,
    registry: registrySupervisor,
    registryListen: knobs.registryListen,
    certsDir: '/etc/docker/certs.d',
    log: log.child({ module: 'cluster' }),
  });
  return {
    cluster,
    nodes: new NodeService({ docker: rt.docker, nodes, cluster, registryFiles: files, log: log.child({ module: 'nodes' }) }),
    registrySupervisor,
    registry: new RegistryAccess(rt.docker, () => files.endpoint()),
  };
}
