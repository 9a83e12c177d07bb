import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoadBalancer } from '../../../../src/proxy/routing/load-balancer.js';
import { Target } from '../../../../src/proxy/routing/target.js';

function targets(...ports: number[]): Target[] {
  return ports.map((p) => new Target(`127.0.0.1:${p}`));
}

/** Ports of the next `n` picks ("none" for undefined). */
function pickPorts(lb: LoadBalancer, n: number): string[] {
  return Array.from({ length: n }, () => lb.pick()?.address.split(':')[1] ?? 'none');
}

describe('LoadBalancer.pick', () => {
  test('an empty balancer picks nothing', () => {
    const lb = new LoadBalancer();
    assert.equal(lb.size, 0);
    assert.equal(lb.pick(), undefined);
    lb.setTargets([]);
    assert.equal(lb.size, 0);
    assert.equal(lb.pick(), undefined);
  });

  test('a single target is picked every time', () => {
    const lb = new LoadBalancer();
    const [a] = targets(3001);
    lb.setTargets([a]);
    assert.equal(lb.size, 1);
    for (let i = 0; i < 3; i++) assert.equal(lb.pick(), a);
  });

  test('rotates round-robin over the targets in their given order', () => {
    const lb = new LoadBalancer();
    lb.setTargets(targets(3001, 3002, 3003));
    assert.equal(lb.size, 3);
    assert.deepEqual(pickPorts(lb, 7), ['3001', '3002', '3003', '3001', '3002', '3003', '3001']);
  });

  test('spreads picks evenly', () => {
    const lb = new LoadBalancer();
    const ts = targets(3001, 3002, 3003, 3004);
    lb.setTargets(ts);
    const counts = new Map<Target, number>();
    for (let i = 0; i < 400; i++) {
      const t = lb.pick();
      assert.ok(t);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    assert.deepEqual(
      ts.map((t) => counts.get(t)),
      [100, 100, 100, 100],
    );
  });

  test('setTargets replaces the rotation and starts it over from the first target', () => {
    const lb = new LoadBalancer();
    lb.setTargets(targets(3001, 3002, 3003));
    assert.deepEqual(pickPorts(lb, 2), ['3001', '3002']);
    lb.setTargets(targets(4001, 4002));
    assert.equal(lb.size, 2);
    assert.deepEqual(pickPorts(lb, 3), ['4001', '4002', '4001']);
    lb.setTargets([]);
    assert.equal(lb.size, 0);
    assert.equal(lb.pick(), undefined);
  });

  test('a down target leaves the rotation on refresh and comes back on the next refresh', () => {
    const lb = new LoadBalancer();
    const [a, b, c] = targets(3001, 3002, 3003);
    lb.setTargets([a, b, c]);
    b.down = true;
    lb.refresh();
    assert.equal(lb.size, 3);
    assert.deepEqual(pickPorts(lb, 4), ['3001', '3003', '3001', '3003']);
    b.down = false;
    lb.refresh();
    // refresh keeps the cursor (index 2 after four picks over two targets)
    assert.deepEqual(pickPorts(lb, 4), ['3003', '3001', '3002', '3003']);
  });

  test('the rotation is the one computed at the last setTargets/refresh', () => {
    const lb = new LoadBalancer();
    const [a, b] = targets(3001, 3002);
    lb.setTargets([a, b]);
    b.down = true;
    // not refreshed yet: b is still handed out
    assert.deepEqual(pickPorts(lb, 2), ['3001', '3002']);
    lb.refresh();
    assert.deepEqual(pickPorts(lb, 2), ['3001', '3001']);
  });

  test('targets already down when set are skipped from the start', () => {
    const lb = new LoadBalancer();
    const [a, b, c] = targets(3001, 3002, 3003);
    a.down = true;
    lb.setTargets([a, b, c]);
    assert.deepEqual(pickPorts(lb, 4), ['3002', '3003', '3002', '3003']);
  });

  test('when every target is down it fails open and rotates over all of them', () => {
    const lb = new LoadBalancer();
    const ts = targets(3001, 3002);
    for (const t of ts) t.down = true;
    lb.setTargets(ts);
    assert.deepEqual(pickPorts(lb, 3), ['3001', '3002', '3001']);
    ts[1].down = false;
    lb.refresh();
    assert.deepEqual(pickPorts(lb, 3), ['3002', '3002', '3002']);
  });

  test('a shrinking rotation wraps its cursor instead of running off the end', () => {
    const lb = new LoadBalancer();
    const [a, b, c] = targets(3001, 3002, 3003);
    lb.setTargets([a, b, c]);
    assert.deepEqual(pickPorts(lb, 2), ['3001', '3002']);
    c.down = true;
    lb.refresh();
    // cursor was at index 2, beyond the 2 live targets
    assert.deepEqual(pickPorts(lb, 3), ['3001', '3002', '3001']);
  });

  test('the list given to setTargets is not mutated', () => {
    const lb = new LoadBalancer();
    const ts = targets(3001, 3002);
    ts[0].down = true;
    lb.setTargets(ts);
    lb.pick();
    lb.refresh();
    assert.deepEqual(
      ts.map((t) => t.address),
      ['127.0.0.1:3001', '127.0.0.1:3002'],
    );
  });
});

describe('LoadBalancer.pickOther', () => {
  test('returns a target other than the failed one, continuing the rotation', () => {
    const lb = new LoadBalancer();
    const [a, b, c] = targets(3001, 3002, 3003);
    lb.setTargets([a, b, c]);
    assert.equal(lb.pick(), a);
    assert.equal(lb.pickOther(a), b);
    assert.equal(lb.pick(), c);
    // the cursor wraps to a, which is the failed one, so b is next
    assert.equal(lb.pickOther(a), b);
    assert.equal(lb.pick(), c);
  });

  test('skips targets that went down even before a refresh', () => {
    const lb = new LoadBalancer();
    const [a, b, c] = targets(3001, 3002, 3003);
    lb.setTargets([a, b, c]);
    assert.equal(lb.pick(), a);
    b.down = true;
    assert.equal(lb.pickOther(a), c);
  });

  test('is null when the failed target is the only one', () => {
    const lb = new LoadBalancer();
    const [a] = targets(3001);
    lb.setTargets([a]);
    assert.equal(lb.pickOther(a), null);
  });

  test('is null when every other target is down', () => {
    const lb = new LoadBalancer();
    const [a, b, c] = targets(3001, 3002, 3003);
    lb.setTargets([a, b, c]);
    b.down = true;
    c.down = true;
    lb.refresh();
    assert.equal(lb.pickOther(a), null);
  });

  test('is null in fail-open mode (everything down) and on an empty balancer', () => {
    const lb = new LoadBalancer();
    const [a, b] = targets(3001, 3002);
    a.down = true;
    b.down = true;
    lb.setTargets([a, b]);
    assert.equal(lb.pick(), a);
    assert.equal(lb.pickOther(a), null);
    const empty = new LoadBalancer();
    assert.equal(empty.pickOther(a), null);
  });

  test('a target that is not in the balancer counts as failed for no one', () => {
    const lb = new LoadBalancer();
    const [a, b] = targets(3001, 3002);
    const [stranger] = targets(9999);
    lb.setTargets([a, b]);
    assert.equal(lb.pickOther(stranger), a);
    assert.equal(lb.pickOther(stranger), b);
  });
});
