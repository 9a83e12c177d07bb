import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type Dockerode from 'dockerode';
import { State } from '../../../../src/state/state.js';
import { SwarmNodesRepository } from '../../../../src/state/swarm-nodes-repository.js';
import { ClusterService } from '../../../../src/swarm/cluster/cluster-service.js';
import { RegistryFiles } from '../../../../src/swarm/registry/registry-files.js';
import { recordingLogger } from '../../fakes/app-services-fakes.js';

/** A fake engine: `docker info`'s Swarm part, swarm init, and node specs. */
function fakeEngine(swarm: Record<string, unknown>) {
  const calls: string[] = [];
  const labels: Record<string, string> = {};
  const spec: { Version: { Index: number }; Spec: Record<string, unknown> } = { Version: { Index: 1 }, Spec: {} };
  const docker = {
    info: async () => ({ Name: 'vm', Swarm: { ...swarm } }),
    swarmInspect: async () => structuredClone(spec),
    swarmUpdate: async (opts: { _query: { version: number }; _body: Record<string, unknown> }) => {
      calls.push(`update v${opts._query.version} ${JSON.stringify(opts._body)}`);
      spec.Spec = opts._body;
      spec.Version.Index++;
    },
    swarmInit: async (opts: { AdvertiseAddr?: string; Spec?: Record<string, unknown> }) => {
      calls.push(`init ${opts.AdvertiseAddr}`);
      spec.Spec = { Name: 'default', Dispatcher: { HeartbeatPeriod: 5e9 }, ...opts.Spec };
      Object.assign(swarm, {
        LocalNodeState: 'active',
        NodeID: 'node-1',
        NodeAddr: opts.AdvertiseAddr,
        ControlAvailable: true,
        Cluster: { ID: 'cluster-1' },
      });
    },
    getNode: () => ({
      inspect: async () => ({
        ID: 'node-1',
        Version: { Index: 1 },
        Spec: { Role: 'manager', Availability: 'active', Labels: { ...labels } },
      }),
      update: async (spec: { Labels: Record<string, string> }) => void Object.assign(labels, spec.Labels),
    }),
  };
  return { docker: docker as unknown as Dockerode, calls, labels, spec };
}

function setup(swarm: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-cluster-'));
  const state = State.open(path.join(dir, 'paas.db'));
  const engine = fakeEngine(swarm);
  const restarts: string[] = [];
  const service = new ClusterService({
    docker: engine.docker,
    nodes: new SwarmNodesRepository(state.db),
    settings: state.settings,
    keysDir: path.join(dir, 'keys'),
    registryFiles: new RegistryFiles(path.join(dir, 'registry')),
    registry: {
      restart: async (e) => {
        restarts.push(`restart ${e.address}`);
        return true;
      },
      ensure: async (e) => {
        restarts.push(`ensure ${e.address}`);
        return true;
      },
    },
    registryListen: undefined,
    certsDir: path.join(dir, 'certs.d'),
    log: recordingLogger().log,
  });
  return {
    dir,
    state,
    engine,
    restarts,
    service,
    done: () => {
      state.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('cluster:init makes the Swarm once, then reports it unchanged; another address is refused', async () => {
  const s = setup({ LocalNodeState: 'inactive' });
  try {
    const first = await s.service.init({ advertiseAddr: '10.0.0.11' });
    assert.deepEqual([first.created, first.advertiseAddr, first.registry], [true, '10.0.0.11', '10.0.0.11:5000']);
    assert.deepEqual(s.engine.calls, ['init 10.0.0.11']);
    assert.equal(s.engine.labels['paas.name'], 'vm');
    assert.ok(fs.existsSync(path.join(s.dir, 'certs.d', '10.0.0.11:5000', 'ca.crt')));
    const again = await s.service.init({});
    assert.equal(again.created, false);
    assert.deepEqual(s.engine.calls, ['init 10.0.0.11']);
    assert.deepEqual(s.restarts, ['restart 10.0.0.11:5000', 'ensure 10.0.0.11:5000']);
    await assert.rejects(s.service.init({ advertiseAddr: '10.0.0.12' }), /already advertises 10\.0\.0\.11/);
  } finally {
    s.done();
  }
});

test('an engine in a Swarm paas did not make is refused, not adopted, and nothing is recorded', async () => {
  const s = setup({ LocalNodeState: 'active', NodeID: 'x', ControlAvailable: true, Cluster: { ID: 'someone-elses-cluster' } });
  try {
    await assert.rejects(s.service.init({}), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PAAS_ERR_CLUSTER_FOREIGN_SWARM');
      assert.match(e.message, /already a manager of a Swarm paas did not create \(cluster someone-else\): paas does not adopt it/);
      return true;
    });
    assert.equal(s.service.facts(), null);
    assert.deepEqual(s.engine.calls, []);
    assert.deepEqual(s.restarts, []);
  } finally {
    s.done();
  }
});

test('a bad --advertise-addr is bad input before the engine is asked', async () => {
  const s = setup({ LocalNodeState: 'inactive' });
  try {
    await assert.rejects(s.service.init({ advertiseAddr: 'eth0; rm -rf /' }), (e: Error & { exitCode?: number }) => e.exitCode === 2);
    assert.deepEqual(s.engine.calls, []);
  } finally {
    s.done();
  }
});

test("cluster:init gives the Swarm paas's 1 s node heartbeat, and sets it on a Swarm that has another", async () => {
  const s = setup({ LocalNodeState: 'inactive' });
  try {
    const first = await s.service.init({ advertiseAddr: '10.0.0.11' });
    assert.equal(first.heartbeatSeconds, 1);
    assert.deepEqual(s.engine.spec.Spec.Dispatcher, { HeartbeatPeriod: 1e9 });
    assert.deepEqual(s.engine.calls, ['init 10.0.0.11'], 'set at init: no update needed');
    // changed by hand (or made by an older paas): the next cluster:init puts it back, keeping the rest of the spec
    s.engine.spec.Spec.Dispatcher = { HeartbeatPeriod: 5e9 };
    const again = await s.service.init({});
    assert.equal(again.heartbeatSeconds, 1);
    assert.deepEqual(s.engine.calls.slice(1), ['update v1 {"Name":"default","Dispatcher":{"HeartbeatPeriod":1000000000}}']);
    await s.service.init({});
    assert.equal(s.engine.calls.length, 2, 'nothing to change the third time');
  } finally {
    s.done();
  }
});
