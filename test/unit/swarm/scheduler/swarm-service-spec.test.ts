import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSpec } from '../../../../src/runtime/container-spec.js';
import { bindMount, serviceName, serviceSpec } from '../../../../src/swarm/scheduler/swarm-service-spec.js';

// biome-ignore lint/suspicious/noExplicitAny: the Engine API body is read field by field
type Loose = Record<string, any>;

const spec: ContainerSpec = {
  app: 'shop',
  process: 'web',
  release: 7,
  replica: 2,
  image: 'paas/shop:v7',
  command: 'httpd -f -p $PORT',
  env: { A: '1', PORT: '1' },
  port: 5000,
  memoryBytes: 64 * 1024 * 1024,
  binds: ['/srv/data:/data:ro'],
  placement: ['node.labels.tier==web'],
};

test('one replica is a one-task service on a host-mode port, without a VIP, spread over nodes', () => {
  const s = serviceSpec(spec, {
    image: 'sha256:abc',
    entrypoint: null,
    network: 'paas-shop-swarm',
    labels: { 'paas.test': '1' },
    init: true,
  }) as Loose;
  assert.match(s.Name, /^shop-web-2-v7-[0-9a-f]{4}$/);
  assert.deepEqual(s.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(s.EndpointSpec, { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 5000, PublishMode: 'host' }] });
  const c = s.TaskTemplate.ContainerSpec;
  assert.equal(c.Image, 'sha256:abc');
  assert.deepEqual(c.Args, ['/bin/sh', '-c', 'httpd -f -p $PORT']);
  assert.ok(c.Env.includes('PORT=5000') && c.Env.includes('A=1'));
  assert.equal(c.Labels['paas.app'], undefined, 'task containers never carry the local runtime label');
  assert.equal(c.Labels['paas.swarm.app'], 'shop');
  assert.deepEqual(c.CapabilityDrop.includes('NET_RAW'), true);
  assert.deepEqual(c.Mounts, [{ Type: 'bind', Source: '/srv/data', Target: '/data', ReadOnly: true }]);
  assert.equal(s.TaskTemplate.Resources.Limits.MemoryBytes, 64 * 1024 * 1024);
  assert.deepEqual(s.TaskTemplate.Placement.Constraints, ['node.labels.tier==web']);
  assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'on-failure', MaxAttempts: 10, Delay: 1_000_000_000 });
  assert.deepEqual(s.TaskTemplate.Networks, [{ Target: 'paas-shop-swarm', Aliases: ['shop.web'] }]);
});

test('restart policies map to Swarm conditions; hardening off drops the limits it adds', () => {
  const base = { image: 'i', entrypoint: null, network: 'n', labels: {}, init: false };
  const any = serviceSpec({ ...spec, restart: { policy: 'always' }, hardening: false }, base) as Loose;
  assert.equal(any.TaskTemplate.RestartPolicy.Condition, 'any');
  assert.equal(any.TaskTemplate.ContainerSpec.CapabilityDrop, undefined);
  assert.equal(any.TaskTemplate.Resources.Limits.Pids, undefined);
  assert.equal((serviceSpec({ ...spec, restart: { policy: 'no' } }, base) as Loose).TaskTemplate.RestartPolicy.Condition, 'none');
});

test('service names stay DNS labels of at most 63 characters', () => {
  const n = serviceName({ app: 'a'.repeat(48), process: 'worker_long_name_here', replica: 12, release: 1234 });
  assert.ok(n.length <= 63, n);
  assert.match(n, /^[A-Za-z0-9][A-Za-z0-9_-]*$/);
  assert.deepEqual(bindMount('/a:/b'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: false });
});
