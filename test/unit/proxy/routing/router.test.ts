import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteEntry, RouteTable } from '../../../../src/proxy/routing/route-table.js';
import { Router } from '../../../../src/proxy/routing/router.js';

function table(version: number, ...services: RouteEntry[]): RouteTable {
  return { version, services };
}

/** What a request for `host` would be routed to: service name and target addresses, or null. */
function routeOf(router: Router, host: string | undefined): { service: string; targets: string[] } | null {
  const svc = router.match(host);
  return svc ? { service: svc.name, targets: [...svc.targets.keys()] } : null;
}

/** The addresses the balancer hands out over `n` picks. */
function picks(router: Router, host: string, n: number): string[] {
  const svc = router.match(host);
  assert.ok(svc, `no service for ${host}`);
  return Array.from({ length: n }, () => svc.balancer.pick()?.address ?? 'none');
}

describe('Router.match', () => {
  test('routes a host to its service and an unknown host to nothing', () => {
    const r = new Router();
    r.apply(
      table(
        2,
        { name: 'web', hosts: ['app.example.com', 'www.example.com'], targets: ['127.0.0.1:3001'] },
        { name: 'api', hosts: ['api.example.com'], targets: ['127.0.0.1:4001'] },
      ),
    );
    assert.deepEqual(routeOf(r, 'app.example.com'), { service: 'web', targets: ['127.0.0.1:3001'] });
    assert.deepEqual(routeOf(r, 'www.example.com'), { service: 'web', targets: ['127.0.0.1:3001'] });
    assert.deepEqual(routeOf(r, 'api.example.com'), { service: 'api', targets: ['127.0.0.1:4001'] });
    assert.equal(r.match('other.example.com'), undefined);
    assert.equal(r.match('example.com'), undefined);
    assert.equal(r.match(''), undefined);
  });

  test('a request without a Host header matches nothing', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    assert.equal(r.match(undefined), undefined);
  });

  test('the Host header matches in any case and with or without a port', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    for (const raw of ['app.io', 'APP.IO', 'App.Io', 'app.io:80', 'app.io:8080', 'APP.io:443']) {
      assert.equal(r.match(raw)?.name, 'web', raw);
    }
    assert.equal(r.match('app.io.evil:80'), undefined);
    assert.equal(r.match('xapp.io'), undefined);
  });

  test('a Host with a port or in another case follows every new table (no stale match)', () => {
    const r = new Router();
    r.apply(
      table(
        2,
        { name: 'blue', hosts: ['app.io'], targets: ['127.0.0.1:3001'] },
        { name: 'green', hosts: ['g.io'], targets: ['127.0.0.1:3002'] },
      ),
    );
    for (let i = 0; i < 3; i++) assert.equal(r.match('APP.io:8080')?.name, 'blue');
    r.apply(
      table(
        3,
        { name: 'blue', hosts: ['b.io'], targets: ['127.0.0.1:3001'] },
        { name: 'green', hosts: ['g.io', 'app.io'], targets: ['127.0.0.1:3002'] },
      ),
    );
    assert.equal(r.match('APP.io:8080')?.name, 'green', 'the host moved with the table');
    r.apply(table(4, { name: 'green', hosts: ['g.io'], targets: ['127.0.0.1:3002'] }));
    assert.equal(r.match('APP.io:8080'), undefined, 'the host was dropped');
  });

  test('a flood of Host variants (every port, unknown names) routes right and keeps the cache bounded', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    const aliases = () => (r as unknown as { aliases: Map<string, unknown> }).aliases.size;
    for (let port = 1; port <= 5000; port++) {
      assert.equal(r.match(`app.io:${port}`)?.name, 'web');
      assert.equal(r.match(`x${port}.app.io:${port}`), undefined);
    }
    assert.ok(aliases() <= 256, `${aliases()} aliases kept`);
    assert.equal(r.match('APP.IO:1')?.name, 'web');
  });

  test('an IPv6 literal host matches with and without a port', () => {
    const r = new Router();
    r.apply(table(2, { name: 'v6', hosts: ['[::1]'], targets: ['[::1]:3001'] }));
    assert.equal(r.match('[::1]')?.name, 'v6');
    assert.equal(r.match('[::1]:8080')?.name, 'v6');
    assert.equal(r.match('[::2]:8080'), undefined);
  });

  test('a router that never applied a table matches nothing and has version -1', () => {
    const r = new Router();
    assert.equal(r.match('app.io'), undefined);
    assert.equal(r.version, -1);
    assert.equal(r.services.size, 0);
  });
});

describe('Router.apply', () => {
  test('records the version of the table it serves', () => {
    const r = new Router();
    r.apply(table(7, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    assert.equal(r.version, 7);
    r.apply(table(8, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    assert.equal(r.version, 8);
  });

  test('a first table retires nothing', () => {
    const r = new Router();
    const retired = r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001', '127.0.0.1:3002'] }));
    assert.deepEqual(retired, []);
  });

  test('swapping targets retires the old ones at once and keeps the Target object of a kept one', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001', '127.0.0.1:3002'] }));
    const svc = r.match('app.io');
    assert.ok(svc);
    const kept = svc.targets.get('127.0.0.1:3002');
    const old = svc.targets.get('127.0.0.1:3001');
    assert.ok(kept && old);
    kept.acquire();

    const retired = r.apply(table(3, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3002', '127.0.0.1:3003'] }));

    assert.equal(retired.length, 1);
    assert.equal(retired[0].service, 'web');
    assert.deepEqual(
      retired[0].targets.map((t) => t.address),
      ['127.0.0.1:3001'],
    );
    assert.equal(retired[0].targets[0], old);
    assert.equal(old.retired, true);
    assert.equal(kept.retired, false);
    // same Service object, same kept Target with its in-flight count
    assert.equal(r.match('app.io'), svc);
    assert.equal(svc.targets.get('127.0.0.1:3002'), kept);
    assert.equal(kept.inflight, 1);
    assert.deepEqual(routeOf(r, 'app.io'), { service: 'web', targets: ['127.0.0.1:3002', '127.0.0.1:3003'] });
    // the retired target gets no new request from the balancer
    assert.deepEqual(picks(r, 'app.io', 4), ['127.0.0.1:3002', '127.0.0.1:3003', '127.0.0.1:3002', '127.0.0.1:3003']);
  });

  test('a service missing from the new table stops matching and retires all its targets', () => {
    const r = new Router();
    r.apply(
      table(
        2,
        { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001', '127.0.0.1:3002'] },
        { name: 'api', hosts: ['api.io'], targets: ['127.0.0.1:4001'] },
      ),
    );
    const retired = r.apply(table(3, { name: 'api', hosts: ['api.io'], targets: ['127.0.0.1:4001'] }));
    assert.deepEqual(
      retired.map((x) => ({ service: x.service, targets: x.targets.map((t) => [t.address, t.retired]) })),
      [
        {
          service: 'web',
          targets: [
            ['127.0.0.1:3001', true],
            ['127.0.0.1:3002', true],
          ],
        },
      ],
    );
    assert.equal(r.match('app.io'), undefined);
    assert.deepEqual([...r.services.keys()], ['api']);
    assert.equal(r.match('api.io')?.name, 'api');
  });

  test('a host moved to another service routes there; the old service keeps its other hosts', () => {
    const r = new Router();
    r.apply(
      table(
        2,
        { name: 'blue', hosts: ['app.io', 'old.app.io'], targets: ['127.0.0.1:3001'] },
        { name: 'green', hosts: ['green.app.io'], targets: ['127.0.0.1:3002'] },
      ),
    );
    const retired = r.apply(
      table(
        3,
        { name: 'blue', hosts: ['old.app.io'], targets: ['127.0.0.1:3001'] },
        { name: 'green', hosts: ['green.app.io', 'app.io'], targets: ['127.0.0.1:3002'] },
      ),
    );
    assert.deepEqual(retired, []);
    assert.equal(r.match('app.io')?.name, 'green');
    assert.equal(r.match('old.app.io')?.name, 'blue');
    assert.equal(r.match('green.app.io')?.name, 'green');
    assert.deepEqual(r.services.get('blue')?.hosts, ['old.app.io']);
  });

  test('a host dropped from a service no longer matches', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['a.io', 'b.io'], targets: ['127.0.0.1:3001'] }));
    r.apply(table(3, { name: 'web', hosts: ['b.io'], targets: ['127.0.0.1:3001'] }));
    assert.equal(r.match('a.io'), undefined);
    assert.equal(r.match('b.io')?.name, 'web');
  });

  test('an empty table clears every route', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    const retired = r.apply(table(3));
    assert.deepEqual(
      retired.map((x) => [x.service, x.targets.map((t) => t.address)]),
      [['web', ['127.0.0.1:3001']]],
    );
    assert.equal(r.match('app.io'), undefined);
    assert.equal(r.services.size, 0);
    assert.equal(r.version, 3);
  });

  test('a service removed then added again starts with fresh Target objects', () => {
    const r = new Router();
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    const first = r.match('app.io')?.targets.get('127.0.0.1:3001');
    assert.ok(first);
    first.acquire();
    r.apply(table(3));
    r.apply(table(4, { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }));
    const second = r.match('app.io')?.targets.get('127.0.0.1:3001');
    assert.equal(first.retired, true);
    assert.equal(first.inflight, 1);
    assert.equal(second?.retired, false);
    assert.equal(second?.inflight, 0);
  });

  test("the table's down list takes targets out of rotation and a later table puts them back", () => {
    const r = new Router();
    const targets = ['127.0.0.1:3001', '127.0.0.1:3002'];
    r.apply(table(2, { name: 'web', hosts: ['app.io'], targets, down: ['127.0.0.1:3001'] }));
    const t1 = r.match('app.io')?.targets.get('127.0.0.1:3001');
    assert.ok(t1);
    assert.equal(t1.down, true);
    assert.deepEqual(picks(r, 'app.io', 3), ['127.0.0.1:3002', '127.0.0.1:3002', '127.0.0.1:3002']);

    t1.connectFailures = 3;
    r.apply(table(3, { name: 'web', hosts: ['app.io'], targets }));
    assert.equal(t1.down, false);
    assert.equal(t1.connectFailures, 0);
    assert.deepEqual(picks(r, 'app.io', 4), ['127.0.0.1:3001', '127.0.0.1:3002', '127.0.0.1:3001', '127.0.0.1:3002']);
  });
});

describe('Router.usesOrigin', () => {
  test('is true while some service routes to the origin and false once none does', () => {
    const r = new Router();
    r.apply(
      table(
        2,
        { name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] },
        { name: 'admin', hosts: ['admin.io'], targets: ['127.0.0.1:3001', '127.0.0.1:3002'] },
      ),
    );
    assert.equal(r.usesOrigin('http://127.0.0.1:3001'), true);
    assert.equal(r.usesOrigin('http://127.0.0.1:3002'), true);
    assert.equal(r.usesOrigin('http://127.0.0.1:3003'), false);
    assert.equal(r.usesOrigin('127.0.0.1:3001'), false);

    r.apply(table(3, { name: 'admin', hosts: ['admin.io'], targets: ['127.0.0.1:3001'] }));
    assert.equal(r.usesOrigin('http://127.0.0.1:3001'), true);
    assert.equal(r.usesOrigin('http://127.0.0.1:3002'), false);

    r.apply(table(4));
    assert.equal(r.usesOrigin('http://127.0.0.1:3001'), false);
  });
});
