import { errorFactory } from '../../errors/app-error.js';

/** Error catalog of the Swarm cluster: cluster:init and the nodes:* commands. */
export const ClusterErrors = {
  /** bad input: an address, a node name, an ssh:// URL or a label that does not parse */
  usage: errorFactory('PAAS_ERR_CLUSTER_USAGE', 2),
  notInitialized: errorFactory('PAAS_ERR_CLUSTER_NOT_INITIALIZED'),
  /** the engine is in a Swarm paas did not make, or paas's Swarm is gone */
  foreignSwarm: errorFactory('PAAS_ERR_CLUSTER_FOREIGN_SWARM'),
  initFailed: errorFactory('PAAS_ERR_CLUSTER_INIT_FAILED'),
  nodeExists: errorFactory('PAAS_ERR_NODE_EXISTS'),
  nodeNotFound: errorFactory('PAAS_ERR_NODE_NOT_FOUND'),
  unreachable: errorFactory('PAAS_ERR_NODE_UNREACHABLE'),
  sshAuth: errorFactory('PAAS_ERR_NODE_SSH_AUTH'),
  hostKeyChanged: errorFactory('PAAS_ERR_NODE_HOST_KEY_CHANGED'),
  /** the host already belongs to a Swarm: nothing was changed on it */
  inSwarm: errorFactory('PAAS_ERR_NODE_IN_SWARM'),
  noDocker: errorFactory('PAAS_ERR_NODE_NO_DOCKER'),
  portClosed: errorFactory('PAAS_ERR_NODE_PORT_CLOSED'),
  joinFailed: errorFactory('PAAS_ERR_NODE_JOIN_FAILED'),
  /** nodes:remove of a node that runs the only replicas of an app, or of the manager */
  removeRefused: errorFactory('PAAS_ERR_NODE_REMOVE_REFUSED'),
};
