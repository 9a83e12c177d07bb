// How ContainerRuntime picks an app network's subnet when the engine refuses one as overlapping:
// after a dockerd restart the engine's bridge driver can keep a network its API no longer lists
// (seen here: "conflicts with network 81fc… (br-81fc…): networks have overlapping IPv4" for a
// network `docker network inspect` did not know), so the same pick failed every time and no new
// app could deploy. A fake engine that refuses the first subnet stands in for that state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Dockerode from 'dockerode';
import { silentLogger } from '../../../src/log/logger.js';
import { ContainerRuntime } from '../../../src/runtime/container-runtime.js';

function fakeEngine(refuse: Set<string>) {
  const asked: string[] = [];
  const docker = {
    listNetworks: async () => [],
    createNetwork: async (opts: { IPAM?: { Config?: { Subnet?: string }[] } }) => {
      const subnet = opts.IPAM?.Config?.[0]?.Subnet ?? '';
      asked.push(subnet);
      if (refuse.has(subnet)) {
        throw Object.assign(new Error('(HTTP code 403) unexpected - conflicts with network 81fc: networks have overlapping IPv4'), {
          statusCode: 403,
          json: {
            message: `cannot create network (br-x): conflicts with network 81fc6fbd8e99 (br-81fc6fbd8e99): networks have overlapping IPv4`,
          },
        });
      }
      return {};
    },
  };
  return { docker: docker as unknown as Dockerode, asked };
}

test('a subnet the engine refuses as overlapping is not picked again: the next free /24 is', async () => {
  const { docker, asked } = fakeEngine(new Set(['10.77.0.0/24', '10.77.1.0/24']));
  const rt = new ContainerRuntime(docker, silentLogger(), { networkPool: '10.77.0.0/22' });
  await rt.ensureNetwork('a');
  assert.deepEqual(asked, ['10.77.0.0/24', '10.77.1.0/24', '10.77.2.0/24']);
});

test("when the engine refuses every /24 of the pool, the network takes a subnet from Docker's own pools", async () => {
  const { docker, asked } = fakeEngine(new Set(['10.78.0.0/24', '10.78.1.0/24']));
  const rt = new ContainerRuntime(docker, silentLogger(), { networkPool: '10.78.0.0/23' });
  await rt.ensureNetwork('a');
  assert.deepEqual(asked, ['10.78.0.0/24', '10.78.1.0/24', '']);
});
