import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerName } from '../../../../src/deploy/scheduler-port.js';
import type { ContainerRuntime } from '../../../../src/runtime/container-runtime.js';
import type { ContainerInfo, ContainerSpec } from '../../../../src/runtime/container-spec.js';
import { isSwarmId, SchedulerRouter } from '../../../../src/swarm/scheduler/scheduler-router.js';
import type { SwarmScheduler } from '../../../../src/swarm/scheduler/swarm-scheduler.js';

const LOCAL_ID = 'a'.repeat(64);
const SWARM_ID = 'p1x2y3z4w5v6u7t8s9r0q1abc';
const info = (id: string, app: string): ContainerInfo =>
  ({ id, app, name: id, process: 'web', release: 1, replica: 1, ip: null, port: 5000, state: 'running' }) as ContainerInfo;

function router(choice: Record<string, SchedulerName>, swarmApps: string[] = []) {
  const calls: string[] = [];
  const log = <T>(line: string, value: T): T => {
    calls.push(line);
    return value;
  };
  const local = {
    start: async (s: ContainerSpec) => log(`local.start ${s.app}`, info(LOCAL_ID, s.app)),
    stop: async (id: string) => void calls.push(`local.stop ${id.slice(0, 4)}`),
    list: async (f: { app?: string }) => log(`local.list ${f.app}`, [info(LOCAL_ID, f.app ?? '')]),
    appNetwork: (app: string) => `paas-${app}`,
  } as unknown as ContainerRuntime;
  const swarm = {
    start: async (s: ContainerSpec) => log(`swarm.start ${s.app}`, info(SWARM_ID, s.app)),
    stop: async (id: string) => void calls.push(`swarm.stop ${id.slice(0, 4)}`),
    list: async (f: { app?: string }) => log(`swarm.list ${f.app}`, [info(SWARM_ID, f.app ?? '')]),
    has: (app: string) => swarmApps.includes(app),
    hasAny: () => swarmApps.length > 0,
    overlay: (app: string) => `paas-${app}-swarm`,
  } as unknown as SwarmScheduler;
  const r = new SchedulerRouter(
    local,
    swarm,
    (app) => choice[app] ?? 'local',
    async () => ({ prefix: 'x', logs: async () => Buffer.alloc(0) }),
  );
  return { r, calls };
}

test('a container id is 64 hex digits; anything else is a Swarm service', () => {
  assert.equal(isSwarmId(LOCAL_ID), false);
  assert.equal(isSwarmId(SWARM_ID), true);
});

test('replicas start where the app is scheduled; stops go by what the id is', async () => {
  const { r, calls } = router({ s: 'swarm' });
  await r.start({ app: 's' } as ContainerSpec);
  await r.start({ app: 'l' } as ContainerSpec);
  await r.stop(SWARM_ID);
  await r.stop(LOCAL_ID);
  assert.deepEqual(calls, ['swarm.start s', 'local.start l', 'swarm.stop p1x2', 'local.stop aaaa']);
  assert.equal(r.appNetwork('s'), 'paas-s-swarm');
  assert.equal(r.appNetwork('l'), 'paas-l');
});

test('a local app never asks the Swarm; an app that is or was on the Swarm lists both', async () => {
  const { r, calls } = router({ s: 'swarm' }, ['moved']);
  assert.equal((await r.list({ app: 'l' })).length, 1);
  assert.equal((await r.list({ app: 's' })).length, 2);
  assert.equal((await r.list({ app: 'moved' })).length, 2);
  assert.deepEqual(calls, ['local.list l', 'local.list s', 'swarm.list s', 'local.list moved', 'swarm.list moved']);
});
