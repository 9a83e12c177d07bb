import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, nodesFor, parsePlacement } from '../../../../src/swarm/scheduler/placement.js';
import type { SwarmNode } from '../../../../src/swarm/scheduler/swarm-replica.js';

const node = (id: string, labels: Record<string, string>, role = 'worker', state = 'ready', availability = 'active'): SwarmNode => ({
  ID: id,
  Spec: { Labels: labels, Role: role, Availability: availability },
  Description: { Hostname: `host-${id}`, Platform: { OS: 'linux', Architecture: 'x86_64' } },
  Status: { State: state, Addr: '10.0.0.1' },
});

test('parses KEY==VALUE and KEY!=VALUE lists, normalised', () => {
  assert.deepEqual(
    parsePlacement('node.labels.tier == web, node.role!=manager').map((c) => c.text),
    ['node.labels.tier==web', 'node.role!=manager'],
  );
});

test('refuses what Swarm would not take, naming the part', () => {
  assert.throws(() => parsePlacement('bogus'), /'bogus' is not KEY==VALUE/);
  assert.throws(() => parsePlacement('node.color==red'), /placement key 'node\.color'/);
  assert.throws(() => parsePlacement('node.role==boss'), /node\.role is manager or worker/);
  assert.throws(() => parsePlacement('node.labels.a==b c'), /characters Swarm does not accept/);
  assert.throws(() => parsePlacement(' , '), /placement is empty/);
  assert.throws(
    () => parsePlacement('x'),
    (e: Error & { code?: string }) => e.code === 'PAAS_ERR_SCHEDULER_BAD_PLACEMENT',
  );
});

test('matches labels, role and hostname as Swarm does; a missing label never equals', () => {
  const n = node('a', { tier: 'Web' });
  assert.equal(matches(n, parsePlacement('node.labels.tier==web')), true);
  assert.equal(matches(n, parsePlacement('node.labels.zone==eu')), false);
  assert.equal(matches(n, parsePlacement('node.labels.zone!=eu')), true);
  assert.equal(matches(n, parsePlacement('node.role==worker,node.hostname==host-a')), true);
  assert.equal(matches(n, parsePlacement('node.role==manager')), false);
});

test('nodesFor keeps ready, active nodes only and refuses when none matches', () => {
  const nodes = [
    node('a', { tier: 'web' }),
    node('b', { tier: 'web' }, 'worker', 'down'),
    node('c', { tier: 'web' }, 'worker', 'ready', 'drain'),
    node('d', {}),
  ];
  assert.deepEqual(nodesFor(nodes, parsePlacement('node.labels.tier==web')), ['host-a']);
  assert.throws(
    () => nodesFor(nodes, parsePlacement('node.labels.tier==db')),
    (e: Error & { code?: string }) => e.code === 'PAAS_ERR_SCHEDULER_NO_MATCHING_NODE' && /nothing was changed/.test(e.message),
  );
});
