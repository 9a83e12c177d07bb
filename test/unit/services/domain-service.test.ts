import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN, developer, domainSetup, liveApp, pushHoldsLock, settle } from '../fakes/app-services-fakes.js';

/** The hosts and targets of each route the proxy was sent, after the first `from`. */
function routesSince(s: ReturnType<typeof domainSetup>, from: number) {
  return s.proxy.deploys.slice(from).map((d) => ({ app: d.service, hosts: d.spec.hosts, targets: d.spec.targets }));
}

/** `a` live with the custom domain a-shop.com, `b` made (not deployed) with b-shop.com; `before`: the routes sent so far. */
async function twoAppsWithDomains() {
  const s = domainSetup();
  await liveApp(s, 'a');
  s.state.apps.create('b');
  await s.domains.add('a', 'a-shop.com', ADMIN);
  await s.domains.add('b', 'b-shop.com', ADMIN);
  return { s, before: s.proxy.deploys.length };
}

/** App `a` made (not deployed) with `hosts` added by an admin key. */
async function appWithDomains(...hosts: string[]) {
  const s = domainSetup();
  s.state.apps.create('a');
  for (const h of hosts) await s.domains.add('a', h, ADMIN);
  return s;
}

describe('DomainService: the global domain', () => {
  test('the server flag is the global domain until set-global overrides it; the reserved hosts follow it', async () => {
    const s = domainSetup();
    assert.equal(s.domains.globalDomain(), 'example.test');
    assert.equal(s.domains.defaultHost('a'), 'a.example.test');
    assert.deepEqual(s.domains.reservedHosts(), ['example.test', 'paas.example.test']);
    const r = await s.domains.setGlobal(' Apps.Example.COM. ');
    assert.deepEqual(r, { domain: 'apps.example.com', rerouted: [], failed: [] });
    assert.equal(s.state.settings.get('domain'), 'apps.example.com');
    assert.equal(s.domains.defaultHost('a'), 'a.apps.example.com');
    assert.deepEqual(s.domains.reservedHosts(), ['apps.example.com', 'paas.apps.example.com']);
  });

  test('set-global re-sends every running app its new hosts and names the apps whose routes failed', async () => {
    const s = domainSetup();
    await liveApp(s, 'a');
    await liveApp(s, 'b');
    s.state.apps.create('c'); // never deployed: nothing to send
    s.refuseFor.add('b');
    const before = s.proxy.deploys.length;
    const r = await s.domains.setGlobal('new.test');
    assert.deepEqual(r, { domain: 'new.test', rerouted: ['a', 'c'], failed: ['b'] });
    assert.deepEqual(routesSince(s, before), [{ app: 'a', hosts: ['a.new.test'], targets: ['10.0.0.1:5000'] }]);
    assert.deepEqual(
      s.logged.map((e) => [e.msg, e.app]),
      [['reroute after global domain change failed', 'b']],
    );
  });

  test('an invalid global domain is refused and the old one stays', async () => {
    const s = domainSetup();
    await assert.rejects(s.domains.setGlobal('not_a domain'), {
      code: 'PAAS_ERR_DOMAIN_INVALID',
      message: "'not_a domain' is not a valid domain name (e.g. www.example.com)",
    });
    assert.equal(s.state.settings.get('domain'), undefined);
    assert.equal(s.domains.globalDomain(), 'example.test');
  });
});

describe('DomainService: add and remove', () => {
  test('add stores the normalized domain and re-sends the live app its hosts, the global one first', async () => {
    const s = domainSetup();
    await liveApp(s, 'a');
    const before = s.proxy.deploys.length;
    assert.equal(await s.domains.add('a', ' WWW.Shop.COM. ', ADMIN), 'www.shop.com');
    assert.equal(s.state.domains.owner('www.shop.com'), 'a');
    assert.deepEqual(s.domains.hosts('a'), ['a.example.test', 'www.shop.com']);
    assert.deepEqual(s.domains.list('a'), [
      { domain: 'a.example.test', kind: 'global' },
      { domain: 'www.shop.com', kind: 'custom' },
    ]);
    assert.deepEqual(routesSince(s, before), [{ app: 'a', hosts: ['a.example.test', 'www.shop.com'], targets: ['10.0.0.1:5000'] }]);
  });

  test('before the first deploy a domain is stored and the proxy is not called', async () => {
    const s = domainSetup();
    s.state.apps.create('a');
    await s.domains.add('a', 'shop.com', ADMIN);
    assert.deepEqual(s.state.domains.list('a'), ['shop.com']);
    assert.deepEqual(s.proxy.deploys, []);
  });

  test("only the live release's running web containers with an address are routed", async () => {
    const s = domainSetup();
    await liveApp(s, 'a', { web: 1, worker: 1 });
    const web = [...s.runtime.containers.values()].find((c) => c.process === 'web')!;
    s.runtime.containers.set('old', { ...web, id: 'old', release: 0, ip: '10.9.9.9' });
    s.runtime.containers.set('booting', { ...web, id: 'booting', ip: null });
    const before = s.proxy.deploys.length;
    await s.domains.add('a', 'shop.com', ADMIN);
    assert.deepEqual(routesSince(s, before)[0]!.targets, [`${web.ip}:5000`]);
    for (const c of s.runtime.containers.values()) if (c.process === 'web') c.state = 'exited';
    await s.domains.remove('a', 'shop.com');
    assert.equal(s.proxy.deploys.length, before + 1, 'no running web container: nothing to send');
  });

  test('the route is sent under the app lock: it waits for the deploy that holds it', async () => {
    const s = domainSetup();
    await liveApp(s, 'a');
    const before = s.proxy.deploys.length;
    const release = await pushHoldsLock(s.locks, 'a');
    const adding = s.domains.add('a', 'shop.com', ADMIN);
    await settle();
    assert.equal(s.proxy.deploys.length, before, 'nothing sent while the push holds the lock');
    await release();
    assert.equal(await adding, 'shop.com');
    assert.equal(s.proxy.deploys.length, before + 1);
  });

  test('refusals change nothing: invalid, taken by another app, its default host, already routed', async () => {
    const { s, before } = await twoAppsWithDomains();
    const cases: [string, string, string][] = [
      ['bad..domain', 'PAAS_ERR_DOMAIN_INVALID', "'bad..domain' is not a valid domain name (e.g. www.example.com)"],
      ['B-Shop.com', 'PAAS_ERR_DOMAIN_TAKEN', "domain b-shop.com already routes to app 'b'"],
      ['b.example.test', 'PAAS_ERR_DOMAIN_TAKEN', "domain b.example.test already routes to app 'b'"],
      ['a.example.test', 'PAAS_ERR_DOMAIN_EXISTS', "domain a.example.test already routes to 'a'"],
      ['a-shop.com', 'PAAS_ERR_DOMAIN_EXISTS', "domain a-shop.com already routes to 'a'"],
    ];
    for (const [input, code, message] of cases) await assert.rejects(s.domains.add('a', input, ADMIN), { code, message }, input);
    assert.deepEqual(s.state.domains.list('a'), ['a-shop.com']);
    assert.deepEqual(s.state.domains.list('b'), ['b-shop.com']);
    assert.equal(s.proxy.deploys.length, before);
  });

  test('remove drops the domain and re-sends the routes; a domain not routed to the app is refused', async () => {
    const { s, before } = await twoAppsWithDomains();
    await assert.rejects(s.domains.remove('a', 'b-shop.com'), {
      code: 'PAAS_ERR_DOMAIN_NOT_FOUND',
      message: "domain b-shop.com is not routed to app 'a'",
    });
    await assert.rejects(s.domains.remove('a', 'a.example.test'), { code: 'PAAS_ERR_DOMAIN_NOT_FOUND' });
    assert.equal(s.state.domains.owner('b-shop.com'), 'b');
    assert.equal(s.proxy.deploys.length, before);
    assert.equal(await s.domains.remove('a', 'A-SHOP.com'), 'a-shop.com');
    assert.deepEqual(s.state.domains.list('a'), []);
    assert.deepEqual(routesSince(s, before), [{ app: 'a', hosts: ['a.example.test'], targets: ['10.0.0.1:5000'] }]);
  });
});

describe('DomainService: what a developer key may add', () => {
  test('under the global domain only hosts of its own apps; any host outside it', async () => {
    const s = domainSetup();
    s.state.apps.create('a');
    s.state.apps.create('b');
    const dev = developer(['a']);
    assert.equal(await s.domains.add('a', 'www.a.example.test', dev), 'www.a.example.test');
    assert.equal(await s.domains.add('a', 'x.www.a.example.test', dev), 'x.www.a.example.test');
    assert.equal(await s.domains.add('a', 'shop.com', dev), 'shop.com');
    const notOwn = (host: string) =>
      `${host} is under the global domain example.test: a developer key may add hosts there only for its own apps' names (<app>.example.test, www.<app>.example.test)`;
    for (const host of ['later.example.test', 'www.later.example.test', 'www.b.example.test']) {
      await assert.rejects(s.domains.add('a', host, dev), { code: 'PAAS_ERR_DOMAIN_RESERVED', message: notOwn(host) }, host);
    }
    assert.deepEqual(s.state.domains.list('a'), ['shop.com', 'www.a.example.test', 'x.www.a.example.test']);
  });

  test("the apex and paas's own host are admin only", async () => {
    const s = domainSetup();
    s.state.apps.create('a');
    const dev = developer(['a', 'paas']);
    for (const host of ['example.test', 'paas.example.test']) {
      await assert.rejects(s.domains.add('a', host, dev), {
        code: 'PAAS_ERR_DOMAIN_RESERVED',
        message: `${host} is reserved for paas itself: only an admin key may add it`,
      });
    }
    assert.deepEqual(s.state.domains.list('a'), []);
    assert.equal(await s.domains.add('a', 'example.test', ADMIN), 'example.test');
    assert.equal(await s.domains.add('a', 'later.example.test', ADMIN), 'later.example.test');
  });

  test('the rule follows the global domain set with set-global', async () => {
    const s = domainSetup();
    s.state.apps.create('a');
    await s.domains.setGlobal('apps.io');
    const dev = developer(['a']);
    assert.equal(await s.domains.add('a', 'later.example.test', dev), 'later.example.test');
    await assert.rejects(s.domains.add('a', 'later.apps.io', dev), { code: 'PAAS_ERR_DOMAIN_RESERVED' });
    await assert.rejects(s.domains.add('a', 'paas.apps.io', dev), { code: 'PAAS_ERR_DOMAIN_RESERVED' });
  });
});

describe("DomainService: an app's own default host wins", () => {
  test("hosts() leaves out a custom domain that is another app's default host, not a deeper one", async () => {
    const s = await appWithDomains('later.example.test', 'www.later.example.test');
    assert.deepEqual(s.domains.hosts('a'), ['a.example.test', 'later.example.test', 'www.later.example.test']);
    s.state.apps.create('later');
    assert.deepEqual(s.domains.hosts('a'), ['a.example.test', 'www.later.example.test']);
    assert.deepEqual(s.domains.hosts('later'), ['later.example.test']);
  });

  test("a new global domain can make a custom domain another app's default host", async () => {
    const s = domainSetup();
    s.state.apps.create('a');
    s.state.apps.create('b');
    await s.domains.add('a', 'b.new.test', ADMIN);
    assert.deepEqual(s.domains.hosts('a'), ['a.example.test', 'b.new.test']);
    await s.domains.setGlobal('new.test');
    assert.deepEqual(s.domains.hosts('a'), ['a.new.test']);
  });

  test('claimDefaultHost takes the host back from the app that had it and re-sends that app its routes', async () => {
    const s = domainSetup();
    await liveApp(s, 'a');
    await s.domains.add('a', 'later.example.test', ADMIN);
    s.state.apps.create('later');
    const before = s.proxy.deploys.length;
    assert.equal(await s.domains.claimDefaultHost('later'), 'a');
    assert.equal(s.state.domains.owner('later.example.test'), undefined);
    assert.deepEqual(routesSince(s, before), [{ app: 'a', hosts: ['a.example.test'], targets: ['10.0.0.1:5000'] }]);
    assert.deepEqual(
      s.logged.map((e) => [e.msg, e.app, e.host, e.was]),
      [["a new app's default host was another app's custom domain: removed from it", 'later', 'later.example.test', 'a']],
    );
  });

  test('claimDefaultHost does nothing when no other app has the host', async () => {
    const s = await appWithDomains('shop.com');
    assert.equal(await s.domains.claimDefaultHost('b'), null);
    s.state.apps.create('b');
    s.state.domains.add('b', 'b.example.test');
    assert.equal(await s.domains.claimDefaultHost('b'), null);
    assert.equal(s.state.domains.owner('b.example.test'), 'b');
    assert.deepEqual(s.state.domains.list('a'), ['shop.com']);
    assert.deepEqual(s.logged, []);
  });

  test('claimDefaultHost still takes the host when the old owner cannot be re-routed', async () => {
    const s = domainSetup();
    await liveApp(s, 'a');
    await s.domains.add('a', 'later.example.test', ADMIN);
    s.refuseFor.add('a');
    assert.equal(await s.domains.claimDefaultHost('later'), 'a');
    assert.deepEqual(s.state.domains.list('a'), []);
    assert.deepEqual(
      s.logged.map((e) => e.msg),
      ["a new app's default host was another app's custom domain: removed from it", 'reroute after giving up a host failed'],
    );
  });
});

describe('DomainService: urls', () => {
  test('https for a host with a certificate, http otherwise, the global host first', async () => {
    const s = await appWithDomains('shop.com', 'www.shop.com');
    s.secureHosts.add('shop.com');
    assert.deepEqual(s.domains.urls('a'), ['http://a.example.test', 'https://shop.com', 'http://www.shop.com']);
  });
});
