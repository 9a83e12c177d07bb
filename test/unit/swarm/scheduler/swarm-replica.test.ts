import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  currentTask,
  nodeAddress,
  replicaInfo,
  type SwarmNode,
  type SwarmService,
  type SwarmTask,
} from '../../../../src/swarm/scheduler/swarm-replica.js';

const service: SwarmService = {
  ID: 'svc1',
  Spec: {
    Name: 'app-web-1-v3-abcd',
    Labels: {
      'paas.swarm.app': 'app',
      'paas.swarm.process': 'web',
      'paas.swarm.release': '3',
      'paas.swarm.replica': '1',
      'paas.swarm.port': '5000',
    },
    TaskTemplate: { ContainerSpec: { Image: 'sha256:x' } },
  },
};
const nodes = new Map<string, SwarmNode>([
  ['n1', { ID: 'n1', Spec: { Labels: { 'paas.name': 'alpha' } }, Status: { State: 'ready', Addr: '198.18.4.2' } }],
  [
    'n2',
    { ID: 'n2', Description: { Hostname: 'beta' }, Status: { State: 'ready', Addr: '0.0.0.0' }, ManagerStatus: { Addr: '10.1.1.1:2377' } },
  ],
]);
const task = (id: string, state: string, desired: string, created: string, node = 'n1', port = 30001): SwarmTask => ({
  ID: id,
  ServiceID: 'svc1',
  NodeID: node,
  CreatedAt: created,
  DesiredState: desired,
  Status: { State: state, Timestamp: created, PortStatus: { Ports: [{ TargetPort: 5000, PublishedPort: port }] } },
});

test('a running task is routed at its node address and published port, with its node named', () => {
  const r = replicaInfo(service, [task('t1', 'running', 'running', '2026-01-01T00:00:01Z')], nodes);
  assert.deepEqual(
    [r.id, r.app, r.process, r.release, r.replica, r.ip, r.port, r.state, r.node],
    ['svc1', 'app', 'web', 3, 1, '198.18.4.2', 30001, 'running', 'alpha'],
  );
});

test('a task on its way after a crash or a node loss is restarting, unrouted; the old one counts as a restart', () => {
  const tasks = [
    task('t1', 'failed', 'shutdown', '2026-01-01T00:00:01Z'),
    task('t2', 'preparing', 'running', '2026-01-01T00:00:05Z', 'n2'),
  ];
  assert.equal(currentTask(tasks)?.ID, 't2');
  const r = replicaInfo(service, tasks, nodes);
  assert.deepEqual([r.ip, r.port, r.state, r.restartCount, r.node], [null, 5000, 'restarting', 1, 'beta']);
});

test('a replica Swarm gave up on is exited; a manager reporting 0.0.0.0 is reached at its manager address', () => {
  const r = replicaInfo(service, [task('t1', 'failed', 'shutdown', '2026-01-01T00:00:01Z')], nodes);
  assert.equal(r.state, 'exited');
  assert.equal(nodeAddress(nodes.get('n2')!), '10.1.1.1');
  assert.equal(replicaInfo(service, [], nodes).state, 'created');
  // its node went down: Swarm wants the task gone and has not made the replacement yet
  const lost = replicaInfo(service, [task('t1', 'running', 'shutdown', '2026-01-01T00:00:01Z')], nodes);
  assert.deepEqual([lost.state, lost.ip], ['restarting', null]);
});

test("a replacement task waiting out Swarm's restart delay (desired state ready) is on its way, not given up on", () => {
  const tasks = [task('t1', 'running', 'shutdown', '2026-01-01T00:00:01Z'), task('t2', 'new', 'ready', '2026-01-01T00:00:05Z', '')];
  assert.equal(currentTask(tasks)?.ID, 't2');
  const r = replicaInfo(service, tasks, nodes);
  assert.deepEqual([r.state, r.ip, r.node], ['restarting', null, null]);
});
