import { type AccessEntry, emptyFigures, type ProxyFigures } from '../../../../src/proxy/edge/request-figures.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { silentLogger } from '../../../../src/log/logger.js';
import type { TargetDownListener } from '../../../../src/proxy/edge/proxy-context.js';
import { ProxyController } from '../../../../src/proxy/control/proxy-controller.js';
import type { RouteStore } from '../../../../src/proxy/routing/route-store.js';
import type { InflightStats, RouteTable, WorkerStats } from '../../../../src/proxy/routing/route-table.js';
import { Router } from '../../../../src/proxy/routing/router.js';
import type { HealthCheckSpec, ServiceSpec } from '../../../../src/proxy/routing/service-spec.js';
import type { BoundPorts } from '../../../../src/proxy/process/listen-sockets.js';
import type { DrainResult, WorkerPool } from '../../../../src/proxy/process/worker-pool.js';

// ---------------------------------------------------------------------------------------------
// fakes

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets pending promise chains run (a few event-loop turns, no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await turn();
}

interface DrainCall {
  service: string;
  addresses: string[];
  timeoutMs: number;
  /** what the router served for the service's first host when the drain started */
  routedAtDrain: string[] | null;
}

/**
 * A worker pool without workers: applies each table to a real Router (so tests can see what a
 * request would be routed to), records drains and lets a test hold them open.
 */
class FakePool implements WorkerPool {
  readonly router = new Router();
  readonly tables: RouteTable[] = [];
  /** addresses the router retired per apply */
  readonly retired: string[][] = [];
  readonly drains: DrainCall[] = [];
  stats_: InflightStats = {};
  drainWith: (service: string, addresses: readonly string[]) => Promise<DrainResult> = async (_s, a) => ({
    drained: a.length,
    expired: 0,
    websockets: 0,
  });
  listener: TargetDownListener | undefined;
  /** when set, apply() rejects with it and changes nothing */
  failApply: Error | undefined;
  private applyWaiters: Array<{ count: number; resolve: () => void }> = [];
  private drainWaiters: Array<() => void> = [];

  async start(table: RouteTable): Promise<BoundPorts> {
    await this.apply(table);
    return { http: 0, https: 0 };
  }

  async applyTls(): Promise<void> {}

  async applyChallenges(): Promise<void> {}

  async figures(): Promise<ProxyFigures> {
    return emptyFigures();
  }

  async accessLog(): Promise<AccessEntry[]> {
    return [];
  }

  async apply(table: RouteTable): Promise<void> {
    if (this.failApply) throw this.failApply;
    this.tables.push(structuredClone(table));
    this.retired.push(this.router.apply(structuredClone(table)).flatMap((r) => r.targets.map((t) => t.address)));
    this.applyWaiters = this.applyWaiters.filter((w) => {
      if (this.tables.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  drain(service: string, addresses: readonly string[], timeoutMs: number): Promise<DrainResult> {
    const host = this.tables.at(-1)?.services.find((s) => s.name === service)?.hosts[0];
    const svc = host === undefined ? undefined : this.router.match(host);
    this.drains.push({ service, addresses: [...addresses], timeoutMs, routedAtDrain: svc ? [...svc.targets.keys()] : null });
    for (const w of this.drainWaiters.splice(0)) w();
    return this.drainWith(service, addresses);
  }

  async stats(): Promise<WorkerStats> {
    return { inflight: this.stats_, clients: 0, upstream: {} };
  }

  async close(): Promise<void> {}

  listenSockets(): null {
    return null;
  }

  onTargetDown(listener: TargetDownListener): void {
    this.listener = listener;
  }

  /** Resolves once `count` tables have been applied in total. */
  applied(count: number): Promise<void> {
    if (this.tables.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.applyWaiters.push({ count, resolve }));
  }

  /** Resolves at the next drain call. */
  nextDrain(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Addresses a request for `host` would go to right now, or null when the host is not routed. */
  routed(host: string): string[] | null {
    const svc = this.router.match(host);
    return svc ? [...svc.targets.keys()] : null;
  }
}

/** Records every snapshot instead of writing a file. */
class FakeStore {
  readonly saved: Array<Record<string, ServiceSpec>> = [];
  failWith: Error | undefined;

  async save(services: ReadonlyMap<string, ServiceSpec>): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.saved.push(structuredClone(Object.fromEntries(services)));
  }
}

/**
 * Fakes Date and the global setTimeout (probe timeouts, recovery probe intervals) so deadlines are
 * in virtual time: real loopback probes complete while the clock stands still, a probe never times
 * out because the machine is slow, and the clock moves only on tick. (The pause between two probes
 * of a health gate uses node:timers/promises, which stays real: 50 ms, then 100 ms, ...)
 */
function fakeClock(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
}

function harness(t: TestContext, initial: Map<string, ServiceSpec> = new Map()) {
  fakeClock(t);
  const pool = new FakePool();
  const store = new FakeStore();
  const ctl = new ProxyController(initial, store as unknown as RouteStore, pool, silentLogger());
  t.after(() => ctl.close());
  return { ctl, pool, store };
}

const TCP_CHECK: HealthCheckSpec = { path: null, intervalMs: 1000, timeoutMs: 1000 };
const HTTP_CHECK: HealthCheckSpec = { path: '/health', intervalMs: 1000, timeoutMs: 1000 };

function spec(targets: string[], over: Partial<ServiceSpec> = {}): ServiceSpec {
  return { hosts: ['app.io'], targets, healthCheck: TCP_CHECK, deployTimeoutMs: 10_000, drainTimeoutMs: 30_000, ...over };
}

// ---------------------------------------------------------------------------------------------
// loopback upstreams (HealthCheck has no seam: it probes real sockets)

function addressOf(server: net.Server): string {
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Accepts TCP connections: healthy for a TCP check. */
async function tcpUpstream(t: TestContext): Promise<string> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return addressOf(server);
}

/** An address nothing listens on (connections are refused). */
async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = addressOf(server);
  await new Promise<void>((r) => server.close(() => r()));
  return address;
}

interface HttpUpstream {
  address: string;
  /** status the next GET /health answers */
  status: number;
  /** requests received so far */
  readonly requests: number;
  /** statuses answered so far, in order */
  readonly statuses: number[];
  /** resolves once `n` requests have been answered */
  answered(n: number): Promise<void>;
}

async function httpUpstream(t: TestContext, status: number): Promise<HttpUpstream> {
  let requests = 0;
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  const statuses: number[] = [];
  const up = {
    address: '',
    status,
    statuses,
    get requests() {
      return requests;
    },
    answered(n: number): Promise<void> {
      if (requests >= n) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ n, resolve }));
    },
  };
  const server = http.createServer((req, res) => {
    requests++;
    const code = req.url === '/health' ? up.status : 404;
    statuses.push(code);
    res.writeHead(code, { connection: 'close' });
    res.end(() => {
      waiters = waiters.filter((w) => {
        if (requests < w.n) return true;
        w.resolve();
        return false;
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  up.address = addressOf(server);
  return up;
}

// ---------------------------------------------------------------------------------------------

// Each suite has a generous deadline so a broken health gate or drain fails the run instead of hanging it.
describe('ProxyController.deploy', { timeout: 30_000 }, () => {
  test('a first deploy health-checks its targets, persists, applies the routes and drains nothing', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await httpUpstream(t, 200);
    const b = await httpUpstream(t, 204);
    const s = spec([a.address, b.address], { healthCheck: HTTP_CHECK });
    assert.deepEqual(ctl.table(), { version: 1, services: [] });

    const res = await ctl.deploy('web', s);

    assert.deepEqual(res.checked, [a.address, b.address]);
    assert.equal(res.expired, 0);
    assert.equal(a.requests, 1);
    assert.equal(b.requests, 1);
    assert.deepEqual(store.saved, [{ web: s }]);
    const table = { version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [a.address, b.address] }] };
    assert.deepEqual(pool.tables, [table]);
    assert.deepEqual(ctl.table(), table);
    assert.deepEqual(pool.routed('app.io'), [a.address, b.address]);
    assert.equal(pool.drains.length, 0);
    assert.equal(ctl.serviceCount, 1);
  });

  test('a redeploy checks only the new targets, swaps, then drains the removed ones', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await httpUpstream(t, 200);
    const b = await httpUpstream(t, 200);
    const c = await httpUpstream(t, 200);
    await ctl.deploy('web', spec([a.address, b.address], { healthCheck: HTTP_CHECK }));
    pool.drainWith = async (_s, addresses) => ({ drained: addresses.length, expired: 2, websockets: 1 });

    const res = await ctl.deploy('web', spec([b.address, c.address], { healthCheck: HTTP_CHECK, drainTimeoutMs: 1234 }));

    assert.deepEqual(res.checked, [c.address]);
    assert.equal(res.expired, 2);
    assert.deepEqual([a.requests, b.requests, c.requests], [1, 1, 1]);
    assert.deepEqual(
      pool.tables.map((tb) => [tb.version, tb.services[0].targets]),
      [
        [2, [a.address, b.address]],
        [3, [b.address, c.address]],
      ],
    );
    assert.deepEqual(pool.retired, [[], [a.address]]);
    // the drain starts after the swap: the router already sends everything to the new set
    assert.deepEqual(pool.drains, [{ service: 'web', addresses: [a.address], timeoutMs: 1234, routedAtDrain: [b.address, c.address] }]);
    assert.deepEqual(
      store.saved.map((x) => x.web.targets),
      [
        [a.address, b.address],
        [b.address, c.address],
      ],
    );
  });

  test('the deploy resolves only once the drain of the old targets is done', async (t) => {
    const { ctl, pool } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    await ctl.deploy('web', spec([a]));
    const drainDone = deferred<DrainResult>();
    pool.drainWith = () => drainDone.promise;
    let resolved = false;
    const drainStarted = pool.nextDrain();
    const p = ctl.deploy('web', spec([b])).then((r) => {
      resolved = true;
      return r;
    });
    await drainStarted;
    await settle();
    assert.equal(resolved, false);
    assert.deepEqual(pool.routed('app.io'), [b]);

    drainDone.resolve({ drained: 1, expired: 0, websockets: 0 });
    const res = await p;
    assert.deepEqual([res.checked, res.expired], [[b], 0]);
  });

  test('the routes are not swapped until the new target passes its health check', async (t) => {
    const { ctl, pool, store } = harness(t);
    const old = await tcpUpstream(t);
    await ctl.deploy('web', spec([old]));
    const fresh = await httpUpstream(t, 503);

    const p = ctl.deploy('web', spec([fresh.address], { healthCheck: HTTP_CHECK }));
    await fresh.answered(1);
    await settle();
    assert.equal(pool.tables.length, 1);
    assert.equal(store.saved.length, 1);
    assert.deepEqual(pool.routed('app.io'), [old]);
    assert.deepEqual(ctl.table().services[0].targets, [old]);
    assert.equal(pool.drains.length, 0);

    fresh.status = 200; // the next probe (fast start: 50 ms later) passes
    const res = await p;
    assert.deepEqual(res.checked, [fresh.address]);
    // how many 503s depends on how long the test took to flip the status; the gate opened on a 200
    assert.equal(fresh.statuses[0], 503);
    assert.equal(fresh.statuses.at(-1), 200);
    assert.deepEqual(pool.routed('app.io'), [fresh.address]);
    assert.deepEqual(
      pool.drains.map((d) => [d.service, d.addresses]),
      [['web', [old]]],
    );
  });

  test('a target that refuses connections fails the deploy at its deadline and leaves the routes alone', async (t) => {
    const { ctl, pool, store } = harness(t);
    const old = await tcpUpstream(t);
    await ctl.deploy('web', spec([old]));
    const dead = await deadAddress();

    // a deadline no longer than the first pause between probes (50 ms) gives exactly one probe
    await assert.rejects(ctl.deploy('web', spec([old, dead], { deployTimeoutMs: 50 })), {
      code: 'PAAS_ERR_PROXY_UNHEALTHY',
      status: 422,
      message: `target ${dead} of service 'web' did not become healthy within 50 ms (1 probes, last: TCP connect ECONNREFUSED)`,
    });

    assert.equal(pool.tables.length, 1);
    assert.equal(store.saved.length, 1);
    assert.equal(pool.drains.length, 0);
    assert.deepEqual(pool.routed('app.io'), [old]);
    assert.deepEqual(ctl.table(), { version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [old] }] });
    // the failed deploy does not block the service's queue
    const res = await ctl.deploy('web', spec([old], { hosts: ['app.io', 'www.app.io'] }));
    assert.deepEqual(res.checked, []);
    assert.deepEqual(pool.routed('www.app.io'), [old]);
  });

  test('a deploy times out while an HTTP health check keeps failing, and names the failing target', async (t) => {
    const { ctl, pool, store } = harness(t);
    const good = await httpUpstream(t, 200);
    const bad = await httpUpstream(t, 500);

    await assert.rejects(ctl.deploy('web', spec([good.address, bad.address], { healthCheck: HTTP_CHECK, deployTimeoutMs: 50 })), {
      code: 'PAAS_ERR_PROXY_UNHEALTHY',
      message: `target ${bad.address} of service 'web' did not become healthy within 50 ms (1 probes, last: HTTP 500 on GET /health)`,
    });
    assert.deepEqual([good.requests, bad.requests], [1, 1]);
    assert.equal(pool.tables.length, 0);
    assert.equal(store.saved.length, 0);
    assert.equal(pool.routed('app.io'), null);
    assert.deepEqual(await ctl.list(), []);
  });

  test('a target still failing its check when the deadline comes fails the deploy with its last answer', async (t) => {
    const { ctl, pool } = harness(t);
    const slow = await httpUpstream(t, 503);
    const p = ctl.deploy('web', spec([slow.address], { healthCheck: HTTP_CHECK, deployTimeoutMs: 149 }));
    await slow.answered(1);
    // 50 ms on: the second probe runs (after the first pause, or at once if the clock moved first);
    // the pause after it (100 ms) would end past the 149 ms deadline, so there is no third
    t.mock.timers.tick(50);
    await assert.rejects(p, {
      code: 'PAAS_ERR_PROXY_UNHEALTHY',
      message: `target ${slow.address} of service 'web' did not become healthy within 149 ms (2 probes, last: HTTP 503 on GET /health)`,
    });
    assert.equal(slow.requests, 2);
    assert.equal(pool.tables.length, 0);
  });

  test('a deploy that keeps the same targets probes nothing and drains nothing', async (t) => {
    const { ctl, pool } = harness(t);
    const up = await httpUpstream(t, 200);
    await ctl.deploy('web', spec([up.address], { healthCheck: HTTP_CHECK }));
    up.status = 500; // a probe now would fail the deploy

    const res = await ctl.deploy('web', spec([up.address], { healthCheck: HTTP_CHECK, hosts: ['new.app.io'], deployTimeoutMs: 40 }));

    assert.deepEqual([res.checked, res.expired], [[], 0]);
    assert.equal(up.requests, 1);
    assert.equal(pool.drains.length, 0);
    assert.equal(pool.routed('app.io'), null);
    assert.deepEqual(pool.routed('new.app.io'), [up.address]);
    assert.deepEqual(pool.retired, [[], []]);
  });

  test('a host routed to another service is refused before any probe', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await tcpUpstream(t);
    const b = await httpUpstream(t, 200);
    await ctl.deploy('web', spec([a], { hosts: ['app.io', 'www.app.io'] }));

    await assert.rejects(async () => ctl.deploy('api', spec([b.address], { hosts: ['api.io', 'www.app.io'], healthCheck: HTTP_CHECK })), {
      code: 'PAAS_ERR_PROXY_HOST_CONFLICT',
      status: 409,
      message: "host 'www.app.io' is already routed to service 'web'",
    });
    assert.equal(b.requests, 0);
    assert.equal(pool.tables.length, 1);
    assert.equal(store.saved.length, 1);
    assert.equal(pool.routed('api.io'), null);
    assert.deepEqual(pool.routed('www.app.io'), [a]);
  });

  test('a host claimed by another service during the health gate fails the deploy after the gate', async (t) => {
    const { ctl, pool } = harness(t);
    const slow = await httpUpstream(t, 503);
    const quick = await tcpUpstream(t);

    const pWeb = ctl.deploy('web', spec([slow.address], { healthCheck: HTTP_CHECK }));
    await slow.answered(1);
    await ctl.deploy('api', spec([quick], { hosts: ['app.io'] }));
    slow.status = 200;

    await assert.rejects(pWeb, { code: 'PAAS_ERR_PROXY_HOST_CONFLICT', message: "host 'app.io' is already routed to service 'api'" });
    assert.equal(slow.statuses.at(-1), 200);
    assert.deepEqual(pool.routed('app.io'), [quick]);
    assert.deepEqual(
      pool.tables.map((tb) => tb.services.map((s) => s.name)),
      [['api']],
    );
  });

  test('an invalid service name is refused', async (t) => {
    const { ctl, pool } = harness(t);
    await assert.rejects(async () => ctl.deploy('bad name', spec([])), {
      code: 'PAAS_ERR_PROXY_INVALID_SPEC',
      message: "service name 'bad name' is invalid (letters, digits, '.', '_', '-'; max 100)",
    });
    assert.equal(pool.tables.length, 0);
  });

  test('operations on one service wait for each other (drain included); other services do not', async (t) => {
    const { ctl, pool } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    const c = await tcpUpstream(t);
    await ctl.deploy('web', spec([a]));
    const drainDone = deferred<DrainResult>();
    pool.drainWith = () => drainDone.promise;

    const drainStarted = pool.nextDrain();
    const p2 = ctl.deploy('web', spec([b]));
    await drainStarted;
    const p3 = ctl.deploy('web', spec([b], { hosts: ['app.io', 'www.app.io'] }));
    await settle();
    assert.equal(pool.tables.length, 2);
    assert.equal(pool.routed('www.app.io'), null);

    pool.drainWith = async (_s, addrs) => ({ drained: addrs.length, expired: 0, websockets: 0 });
    await ctl.deploy('api', spec([c], { hosts: ['api.io'] }));
    assert.equal(pool.tables.length, 3);
    assert.deepEqual(pool.routed('api.io'), [c]);

    drainDone.resolve({ drained: 1, expired: 0, websockets: 0 });
    await Promise.all([p2, p3]);
    assert.deepEqual(
      pool.tables.map((tb) => tb.version),
      [2, 3, 4, 5],
    );
    assert.deepEqual(pool.routed('www.app.io'), [b]);
  });
});

describe('ProxyController.remove', { timeout: 30_000 }, () => {
  test('removing an unknown service fails and changes nothing', async (t) => {
    const { ctl, pool, store } = harness(t);
    await assert.rejects(ctl.remove('ghost'), {
      code: 'PAAS_ERR_PROXY_SERVICE_NOT_FOUND',
      status: 404,
      message: "no service 'ghost'",
    });
    assert.equal(pool.tables.length, 0);
    assert.equal(store.saved.length, 0);
  });

  test('removes the routes at once, persists, then drains every target of the service', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    const c = await tcpUpstream(t);
    await ctl.deploy('web', spec([a, b], { drainTimeoutMs: 777 }));
    await ctl.deploy('api', spec([c], { hosts: ['api.io'] }));
    pool.drainWith = async (_s, addresses) => ({ drained: addresses.length, expired: 3, websockets: 0 });

    const res = await ctl.remove('web');

    assert.deepEqual([res.checked, res.expired], [[], 3]);
    assert.equal(pool.routed('app.io'), null);
    assert.deepEqual(pool.routed('api.io'), [c]);
    assert.deepEqual(pool.drains, [{ service: 'web', addresses: [a, b], timeoutMs: 777, routedAtDrain: null }]);
    assert.deepEqual(pool.retired.at(-1), [a, b]);
    assert.deepEqual(Object.keys(store.saved.at(-1) ?? {}), ['api']);
    assert.deepEqual(ctl.table(), { version: 4, services: [{ name: 'api', hosts: ['api.io'], targets: [c] }] });
    assert.equal(ctl.serviceCount, 1);
    await assert.rejects(ctl.remove('web'), { code: 'PAAS_ERR_PROXY_SERVICE_NOT_FOUND' });
  });

  test('a remove queued behind a deploy of the same service sees the deployed targets', async (t) => {
    const { ctl, pool } = harness(t);
    const slow = await httpUpstream(t, 503);
    const pDeploy = ctl.deploy('web', spec([slow.address], { healthCheck: HTTP_CHECK }));
    const pRemove = ctl.remove('web');
    await slow.answered(1);
    slow.status = 200;
    await pDeploy;
    await pRemove;
    assert.deepEqual(
      pool.drains.map((d) => [d.service, d.addresses]),
      [['web', [slow.address]]],
    );
    assert.equal(pool.routed('app.io'), null);
  });
});

describe('ProxyController.list and passive health', { timeout: 30_000 }, () => {
  test('lists services with their in-flight counts (0 when a worker reports none) and health', async (t) => {
    const { ctl, pool } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    await ctl.deploy('web', spec([a, b], { hosts: ['app.io', 'www.app.io'] }));
    pool.stats_ = { web: { [a]: 3 }, gone: { '127.0.0.1:1': 9 } };

    assert.deepEqual(await ctl.list(), [
      {
        name: 'web',
        hosts: ['app.io', 'www.app.io'],
        targets: [a, b],
        inflight: { [a]: 3, [b]: 0 },
        healthy: { [a]: true, [b]: true },
        connections: { [a]: { active: 0, idle: 0 }, [b]: { active: 0, idle: 0 } },
        maintenance: null,
        pausedUntil: null,
        maxBodyBytes: null,
      },
    ]);
  });

  test('services given to the constructor are served as they are', async (t) => {
    const initial = new Map([['web', spec(['127.0.0.1:3001'])]]);
    const { ctl } = harness(t, initial);
    assert.equal(ctl.serviceCount, 1);
    assert.deepEqual(ctl.table(), { version: 1, services: [{ name: 'web', hosts: ['app.io'], targets: ['127.0.0.1:3001'] }] });
  });

  test('a target a worker reports down leaves every rotation and returns when its probe answers', async (t) => {
    const { ctl, pool } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    await ctl.deploy('web', spec([a, b], { healthCheck: { path: null, intervalMs: 10, timeoutMs: 1000 } }));
    assert.ok(pool.listener);

    pool.listener('web', a);
    await pool.applied(2);
    assert.deepEqual(pool.tables[1], { version: 3, services: [{ name: 'web', hosts: ['app.io'], targets: [a, b], down: [a] }] });
    assert.equal(pool.router.match('app.io')?.targets.get(a)?.down, true);
    // probed after intervalMs (virtual); a accepts connections, so it comes back
    t.mock.timers.tick(10);
    await pool.applied(3);
    assert.deepEqual(pool.tables[2], { version: 4, services: [{ name: 'web', hosts: ['app.io'], targets: [a, b] }] });
    assert.equal(pool.router.match('app.io')?.targets.get(a)?.down, false);
    assert.deepEqual((await ctl.list())[0].healthy, { [a]: true, [b]: true });
  });

  test('a down target is reported unhealthy; repeated reports and reports of unknown targets change nothing', async (t) => {
    const a = await tcpUpstream(t);
    const dead = await deadAddress();
    // a service that starts with a target refusing connections (e.g. loaded from the route store)
    const { ctl, pool, store } = harness(t, new Map([['web', spec([a, dead])]]));
    await ctl.targetDown('web', dead);
    await ctl.targetDown('web', dead);
    await ctl.targetDown('web', '127.0.0.1:1');
    await ctl.targetDown('nope', dead);
    assert.deepEqual(pool.tables, [{ version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [a, dead], down: [dead] }] }]);
    assert.deepEqual((await ctl.list())[0].healthy, { [a]: true, [dead]: false });
    // passive health is not persisted, but the commit saves the (unchanged) specs
    assert.deepEqual(store.saved, [{ web: spec([a, dead]) }]);
  });

  test('a redeploy without the down target forgets its down state', async (t) => {
    const dead = await deadAddress();
    const b = await tcpUpstream(t);
    const { ctl, pool } = harness(t, new Map([['web', spec([dead])]]));
    await ctl.targetDown('web', dead);
    assert.deepEqual(ctl.table().services[0].down, [dead]);

    await ctl.deploy('web', spec([b]));
    assert.deepEqual(ctl.table(), { version: 3, services: [{ name: 'web', hosts: ['app.io'], targets: [b] }] });
    assert.deepEqual((await ctl.list())[0].healthy, { [b]: true });
    assert.deepEqual(
      pool.drains.map((d) => d.addresses),
      [[dead]],
    );
  });
});

describe('ProxyController when persisting or applying fails', { timeout: 30_000 }, () => {
  test('a first deploy that cannot be persisted fails with the store error and leaves no service', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await tcpUpstream(t);
    store.failWith = new Error('disk full');
    await assert.rejects(ctl.deploy('web', spec([a])), { message: 'disk full' });
    assert.equal(pool.tables.length, 0);
    assert.equal(pool.drains.length, 0);
    assert.deepEqual(ctl.table(), { version: 1, services: [] });
    assert.deepEqual(await ctl.list(), []);
    assert.equal(ctl.serviceCount, 0);
  });

  test('a redeploy that cannot be persisted leaves the controller on the old routes; a retry swaps and drains', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    await ctl.deploy('web', spec([a]));
    store.failWith = new Error('disk full');
    await assert.rejects(ctl.deploy('web', spec([b])), { message: 'disk full' });
    assert.deepEqual(pool.routed('app.io'), [a]);
    assert.deepEqual(ctl.table(), { version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [a] }] });
    assert.deepEqual(
      (await ctl.list()).map((s) => s.targets),
      [[a]],
    );
    assert.equal(pool.drains.length, 0);

    store.failWith = undefined;
    const res = await ctl.deploy('web', spec([b]));
    assert.deepEqual(res.checked, [b]);
    assert.deepEqual(ctl.table(), { version: 3, services: [{ name: 'web', hosts: ['app.io'], targets: [b] }] });
    assert.deepEqual(
      pool.drains.map((d) => d.addresses),
      [[a]],
    );
  });

  test('a redeploy the workers fail to apply leaves the controller on the old routes', async (t) => {
    const { ctl, pool } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    await ctl.deploy('web', spec([a]));
    pool.failApply = new Error('worker 2 died');
    await assert.rejects(ctl.deploy('web', spec([b])), { message: 'worker 2 died' });
    assert.deepEqual(ctl.table(), { version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [a] }] });
    assert.deepEqual(pool.routed('app.io'), [a]);
    assert.equal(pool.drains.length, 0);
  });

  test('a redeploy the workers fail to apply does not leave the new routes in the store', {}, async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await tcpUpstream(t);
    const b = await tcpUpstream(t);
    await ctl.deploy('web', spec([a]));
    pool.failApply = new Error('worker 2 died');
    await assert.rejects(ctl.deploy('web', spec([b])), { message: 'worker 2 died' });
    assert.deepEqual(store.saved.at(-1), { web: spec([a]) });
  });

  test('a removal that cannot be persisted keeps the service routed and drains nothing', async (t) => {
    const { ctl, pool, store } = harness(t);
    const a = await tcpUpstream(t);
    await ctl.deploy('web', spec([a]));
    store.failWith = new Error('read-only file system');
    await assert.rejects(ctl.remove('web'), { message: 'read-only file system' });
    assert.deepEqual(ctl.table(), { version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [a] }] });
    assert.deepEqual(pool.routed('app.io'), [a]);
    assert.equal(pool.drains.length, 0);
  });

  test('out-of-rotation marks survive a redeploy that failed to persist', async (t) => {
    const a = await tcpUpstream(t);
    const dead = await deadAddress();
    const { ctl, store } = harness(t, new Map([['web', spec([a, dead])]]));
    await ctl.targetDown('web', dead);
    store.failWith = new Error('disk full');
    await assert.rejects(ctl.deploy('web', spec([a])), { message: 'disk full' });
    assert.deepEqual(ctl.table(), { version: 2, services: [{ name: 'web', hosts: ['app.io'], targets: [a, dead], down: [dead] }] });
    assert.deepEqual((await ctl.list())[0].healthy, { [a]: true, [dead]: false });
  });
});
