import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDurationMs } from '../../../src/config/duration.js';
import { parseServerConfig, proxyLimitArgs } from '../../../src/config/server-config.js';
import { TrustedProxies } from '../../../src/util/trusted-proxies.js';

test('proxy limit flags: defaults, flags, env, and the argv handed to the proxy process', () => {
  const d = parseServerConfig([], {});
  assert.deepEqual(d.proxyLimits, {
    idleTimeoutMs: 60_000,
    headerTimeoutMs: 30_000,
    maxConnections: 10_000,
    maxConnectionsPerIp: 256,
    upstreamWaitMs: 10_000,
  });
  assert.deepEqual(d.trustedProxies, []);
  const c = parseServerConfig(
    [
      '--proxy-idle-timeout',
      '5s',
      '--proxy-header-timeout=500ms',
      '--proxy-max-connections-per-ip',
      '10',
      '--trusted-proxies',
      '10.0.0.0/8, 2001:db8::/32',
    ],
    { PAAS_PROXY_UPSTREAM_WAIT: '2m' },
  );
  assert.equal(c.proxyLimits.idleTimeoutMs, 5000);
  assert.equal(c.proxyLimits.headerTimeoutMs, 500);
  assert.equal(c.proxyLimits.maxConnectionsPerIp, 10);
  assert.equal(c.proxyLimits.upstreamWaitMs, 120_000);
  assert.deepEqual(c.trustedProxies, ['10.0.0.0/8', '2001:db8::/32']);
  const again = parseServerConfig(proxyLimitArgs(c), {});
  assert.deepEqual(again.proxyLimits, c.proxyLimits);
  assert.deepEqual(again.trustedProxies, c.trustedProxies);
});

test('bad proxy limit values are refused with one line naming the flag', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--proxy-idle-timeout', 'soon'], /--proxy-idle-timeout must be a duration/],
    [['--proxy-idle-timeout', '10ms'], /--proxy-idle-timeout must be a duration/],
    [['--proxy-header-timeout', '-1s'], /--proxy-header-timeout/],
    [['--proxy-max-connections', '0'], /--proxy-max-connections must be a whole number/],
    [['--proxy-max-connections-per-ip', '1e3'], /--proxy-max-connections-per-ip/],
    [['--trusted-proxies', '10.0.0.0/33'], /--trusted-proxies: '10.0.0.0\/33' has an invalid prefix length/],
    [['--trusted-proxies', 'cloudflare'], /--trusted-proxies: 'cloudflare' is not an IP address/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseServerConfig(argv, {}),
      (e: Error & { code?: string }) => e.code === 'PAAS_ERR_CONFIG_INVALID' && re.test(e.message) && !e.message.includes('\n'),
      argv.join(' '),
    );
  }
});

test('durations and trusted-proxy matching', () => {
  assert.equal(parseDurationMs('60'), 60_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.equal(parseDurationMs('2h'), 7_200_000);
  assert.equal(parseDurationMs('25h'), null);
  assert.equal(parseDurationMs('1.5s'), null);
  const t = TrustedProxies.parse('173.245.48.0/20,10.1.2.3,::1');
  assert.ok(t.has('173.245.50.9'));
  assert.ok(t.has('10.1.2.3'));
  assert.ok(!t.has('10.1.2.4'));
  assert.ok(t.has('::1'));
  assert.ok(!t.has('not-an-ip'));
  // X-Real-IP behind trusted hops: the rightmost untrusted address of the chain
  assert.equal(t.clientAddress('10.1.2.3', '198.51.100.1, 203.0.113.5, 173.245.48.1'), '203.0.113.5');
  assert.equal(t.clientAddress('192.0.2.1', '198.51.100.1'), '192.0.2.1');
});
