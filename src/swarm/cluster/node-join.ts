import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { quote } from 'shell-quote';
import type { RegistryEndpoint } from '../registry/registry-files.js';
import { ClusterErrors } from './cluster-errors.js';
import { DOCKER_PROBE, dockerPlan } from './docker-on-node.js';
import type { NodeShell } from './node-shell.js';
import { closedTargets, listenerCommand, type PortCheck, sendToken, tcpProbeCommand } from './port-checks.js';

/**
 * The steps nodes:add runs on a node over SSH, in order, each refusing before anything changes
 * on the node: Docker present (or installed), not in a Swarm, the ports open; only then is the
 * registry's CA written and the node joined.
 */

/** Docker present, or installed with apt-get / started; refuses a host that has no way to get it. */
export async function ensureDocker(shell: NodeShell, name: string, progress: (line: string) => void): Promise<string> {
  const plan = dockerPlan((await shell.exec(DOCKER_PROBE, { timeoutMs: 30_000 })).stdout);
  if (plan.kind === 'present') return plan.version;
  if (plan.kind === 'unsupported') throw ClusterErrors.noDocker(`${name}: ${plan.why}`);
  progress(plan.kind === 'install' ? `Installing Docker on ${name} (apt-get install docker.io)` : `Starting Docker on ${name}`);
  const r = await shell.exec(plan.command, { timeoutMs: 900_000 });
  const again = dockerPlan((await shell.exec(DOCKER_PROBE, { timeoutMs: 30_000 })).stdout);
  if (again.kind !== 'present')
    throw ClusterErrors.noDocker(`${name}: Docker could not be set up (${lastLine(r.stderr) || `exit ${r.code}`})`);
  return again.version;
}

/** The node's Swarm membership: refuses a host already in a Swarm (this one or another). */
export async function ensureNotInSwarm(shell: NodeShell, name: string, host: string, knownNodeIds: Set<string>): Promise<void> {
  const r = await shell.exec(quote(['docker', 'info', '--format', '{{json .Swarm}}']), { timeoutMs: 30_000 });
  if (r.code !== 0) throw ClusterErrors.noDocker(`${name}: docker info failed: ${lastLine(r.stderr)}`);
  const swarm = JSON.parse(r.stdout.trim() || '{}') as { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean };
  const state = swarm.LocalNodeState ?? 'inactive';
  if (state === 'inactive') return;
  if (swarm.NodeID && knownNodeIds.has(swarm.NodeID))
    throw ClusterErrors.nodeExists(`${host} is already in this cluster (node ${swarm.NodeID.slice(0, 12)})`);
  const leave = swarm.ControlAvailable ? 'docker swarm leave --force' : 'docker swarm leave';
  throw ClusterErrors.inSwarm(
    `${name} (${host}) is already part of a Swarm (${swarm.ControlAvailable ? 'as a manager' : `state ${state}`}): nothing was changed on it; run '${leave}' there first`,
  );
}

const PURPOSE: Record<string, string> = {
  '2377/tcp': 'Swarm cluster management',
  '7946/tcp': 'Swarm node gossip',
  '7946/udp': 'Swarm node gossip',
  '4789/udp': 'overlay network traffic (VXLAN)',
};

function closedPort(c: PortCheck, name: string, from: string, to: string): Error {
  return ClusterErrors.portClosed(
    `port ${c.port}/${c.proto} (${c.what}) is closed from ${from} to ${to}: open it in the firewalls between ${name} and the manager`,
  );
}

/** Checks every port Swarm and the registry need (port-checks.ts says how); the first closed one is named. */
export async function checkPorts(shell: NodeShell, name: string, managerAddr: string, registry: RegistryEndpoint): Promise<void> {
  const node = shell.target.host;
  const regHost = registry.address.slice(0, registry.address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const regPort = Number(registry.address.slice(registry.address.lastIndexOf(':') + 1));
  const outbound: (PortCheck & { host: string })[] = [
    { host: managerAddr, port: 2377, proto: 'tcp', direction: 'node->manager', what: PURPOSE['2377/tcp']! },
    { host: managerAddr, port: 7946, proto: 'tcp', direction: 'node->manager', what: PURPOSE['7946/tcp']! },
    { host: regHost, port: regPort, proto: 'tcp', direction: 'node->manager', what: "paas's image registry" },
  ];
  const probe = await shell.exec(tcpProbeCommand(outbound), { timeoutMs: 60_000 });
  if (!/^(open|closed) /m.test(probe.stdout))
    throw ClusterErrors.portClosed(`${name}: cannot check its ports (needs bash and timeout): ${lastLine(probe.stderr)}`);
  const closed = new Set(closedTargets(probe.stdout));
  for (const c of outbound) if (closed.has(`${c.host}/${c.port}`)) throw closedPort(c, name, `${name} (${node})`, `${c.host}`);

  const inbound: PortCheck[] = [
    { port: 7946, proto: 'tcp', direction: 'manager->node', what: PURPOSE['7946/tcp']! },
    { port: 7946, proto: 'udp', direction: 'manager->node', what: PURPOSE['7946/udp']! },
    { port: 4789, proto: 'udp', direction: 'manager->node', what: PURPOSE['4789/udp']! },
  ];
  const token = randomBytes(8).toString('hex');
  const specs = inbound.map((c) => `${c.proto}/${c.port}`);
  const listener = await shell.start(listenerCommand(token, specs));
  try {
    if ((await listener.waitLine((l) => l === 'ready', 15_000)) === null)
      throw ClusterErrors.portClosed(`${name}: cannot start the port listener (needs perl): ${listener.lines().join(' ') || 'no answer'}`);
    const busy = listener.lines().find((l) => l.startsWith('busy '));
    if (busy) throw ClusterErrors.portClosed(`${name}: port ${busy.slice(5)} is already in use on the node; Swarm needs it free`);
    for (const c of inbound) {
      const spec = `${c.proto}/${c.port}`;
      let got: string | null = null;
      for (let attempt = 0; attempt < 3 && got === null; attempt++) {
        await sendToken(node, c.port, c.proto, token);
        got = await listener.waitLine((l) => l === `got ${spec}`, 1000);
      }
      if (got === null) throw closedPort(c, name, 'the manager', `${name} (${node})`);
    }
  } finally {
    listener.close();
  }
}

/** Writes the registry's CA where the node's engine looks for it. */
export async function trustRegistry(shell: NodeShell, name: string, registry: RegistryEndpoint): Promise<void> {
  const dir = `/etc/docker/certs.d/${registry.address}`;
  // every command an argument list quoted for the node's shell (SSH carries one string): no operators
  const made = await shell.exec(quote(['mkdir', '-p', dir]), { timeoutMs: 30_000 });
  const r = made.code !== 0 ? made : await shell.exec(quote(['tee', `${dir}/ca.crt`]), { stdin: registry.caPem, timeoutMs: 30_000 });
  if (r.code !== 0) throw ClusterErrors.joinFailed(`${name}: cannot write the registry's CA to ${dir}: ${lastLine(r.stderr)}`);
}

/** `docker swarm join` on the node; resolves with its Swarm node ID. */
export async function joinSwarm(shell: NodeShell, name: string, token: string, managerAddr: string): Promise<string> {
  const node = shell.target.host;
  const manager = net.isIPv6(managerAddr) ? `[${managerAddr}]:2377` : `${managerAddr}:2377`;
  const args = ['docker', 'swarm', 'join', '--token', token, ...(net.isIP(node) ? ['--advertise-addr', node] : []), manager];
  const r = await shell.exec(quote(args), { timeoutMs: 120_000 });
  if (r.code !== 0) throw ClusterErrors.joinFailed(`${name}: docker swarm join failed: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
  const id = await shell.exec(quote(['docker', 'info', '--format', '{{.Swarm.NodeID}}']), { timeoutMs: 30_000 });
  const nodeId = id.stdout.trim();
  if (!nodeId) throw ClusterErrors.joinFailed(`${name}: joined, but its Swarm node ID could not be read`);
  return nodeId;
}

export function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}
