import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { silentLogger } from '../../../src/log/logger.js';
import { DEFAULT_MAINTENANCE_MESSAGE, parseBodySize, TrafficService } from '../../../src/services/traffic-service.js';
import { FakeTrafficProxy } from '../fakes/ops-services-fakes.js';
import { deploySetup } from '../fakes/services-setup.js';

const NOW = 1_800_000_000_000;

function services() {
  const s = deploySetup();
  s.state.apps.create('a');
  const proxy = new FakeTrafficProxy();
  const traffic = new TrafficService({ settings: s.settings, proxy, log: silentLogger() });
  return { ...s, proxy, traffic };
}

beforeEach(() => mock.timers.enable({ apis: ['Date'], now: NOW }));
afterEach(() => mock.timers.reset());

const usage = (message: string) => ({ code: 'PAAS_ERR_TRAFFIC_USAGE', exitCode: 2, message });

describe('TrafficService.maintenance', () => {
  test('on stores the default message and sends it to the proxy at once', async () => {
    const s = services();
    s.proxy.route('a');
    assert.deepEqual(await s.traffic.maintenance('a', 'on', undefined), { on: true, message: DEFAULT_MAINTENANCE_MESSAGE, applied: true });
    assert.equal(s.settings.get('a', 'maintenance'), DEFAULT_MAINTENANCE_MESSAGE);
    assert.deepEqual(s.proxy.sent, [{ service: 'a', controls: { maintenance: DEFAULT_MAINTENANCE_MESSAGE } }]);
  });

  test('a message is trimmed and may span lines; off (any case) clears it and keeps the other controls', async () => {
    const s = services();
    s.proxy.route('a');
    await s.traffic.set('a', 'max-body-size', '1m');
    assert.deepEqual(await s.traffic.maintenance('a', 'ON', '  Back at 10:00\nSorry  '), {
      on: true,
      message: 'Back at 10:00\nSorry',
      applied: true,
    });
    assert.deepEqual(await s.traffic.maintenance('a', 'Off', undefined), { on: false, message: null, applied: true });
    assert.equal(s.settings.get('a', 'maintenance'), null);
    assert.deepEqual(
      s.proxy.sent.map((x) => x.controls),
      [{ maxBodyBytes: 1048576 }, { maintenance: 'Back at 10:00\nSorry', maxBodyBytes: 1048576 }, { maxBodyBytes: 1048576 }],
    );
  });

  test('an app the proxy does not route yet keeps the setting for its first route (applied: false)', async () => {
    const s = services();
    assert.deepEqual(await s.traffic.maintenance('a', 'on', 'soon'), { on: true, message: 'soon', applied: false });
    assert.equal(s.settings.get('a', 'maintenance'), 'soon');
    assert.deepEqual(s.proxy.sent, []);
  });

  test('a bad mode, a message with off, and an empty, long or binary message are usage errors; nothing changes', async () => {
    const s = services();
    s.proxy.route('a');
    const cases: [string, string | undefined, string][] = [
      ['maybe', undefined, "ps:maintenance takes on or off, got 'maybe'"],
      ['off', 'bye', '--message goes with ps:maintenance on'],
      ['on', '   ', '--message must be 1 to 2000 characters of text'],
      ['on', 'x'.repeat(2001), '--message must be 1 to 2000 characters of text'],
      ['on', 'bell\u0007', '--message must be 1 to 2000 characters of text'],
      ['on', 'esc\u001b[2J', '--message must be 1 to 2000 characters of text'],
      ['on', 'del\u007f', '--message must be 1 to 2000 characters of text'],
    ];
    for (const [mode, message, text] of cases) await assert.rejects(s.traffic.maintenance('a', mode, message), usage(text));
    assert.equal(s.settings.get('a', 'maintenance'), null);
    assert.deepEqual(s.proxy.sent, []);
    assert.equal((await s.traffic.maintenance('a', 'on', 'x'.repeat(2000))).on, true);
  });

  test('a proxy failure other than a missing route is the error the user sees, and the stored controls stay as they were', async () => {
    const s = services();
    s.proxy.route('a');
    s.proxy.down = new Error('connect ENOENT /run/paas/proxy.sock');
    await assert.rejects(s.traffic.maintenance('a', 'on', undefined), { message: 'connect ENOENT /run/paas/proxy.sock' });
    assert.equal(s.settings.get('a', 'maintenance'), null);
    await assert.rejects(s.traffic.set('a', 'max-body-size', '5m'), { message: 'connect ENOENT /run/paas/proxy.sock' });
    assert.equal(s.settings.get('a', 'max-body-size'), null);
    await assert.rejects(s.traffic.pause('a', '30s'), { message: 'connect ENOENT /run/paas/proxy.sock' });
    assert.equal(s.settings.get('a', 'paused-until'), null);
  });
});

describe('TrafficService.pause and resume', () => {
  test('pause holds new requests for 30 s by default, or for --max', async () => {
    const s = services();
    s.proxy.route('a');
    assert.deepEqual(await s.traffic.pause('a', undefined), { until: NOW + 30_000, applied: true });
    assert.equal(s.settings.get('a', 'paused-until'), NOW + 30_000);
    assert.deepEqual(await s.traffic.pause('a', '5m'), { until: NOW + 300_000, applied: true });
    assert.deepEqual(await s.traffic.pause('a', '1h'), { until: NOW + 3_600_000, applied: true });
    assert.deepEqual(await s.traffic.pause('a', '1s'), { until: NOW + 1000, applied: true });
    assert.deepEqual(
      s.proxy.sent.map((x) => x.controls),
      [{ pausedUntil: NOW + 30_000 }, { pausedUntil: NOW + 300_000 }, { pausedUntil: NOW + 3_600_000 }, { pausedUntil: NOW + 1000 }],
    );
  });

  test('--max outside 1s..1h or not a duration is a usage error; nothing is paused', async () => {
    const s = services();
    s.proxy.route('a');
    for (const bad of ['999ms', '0', '61m', '2h', 'soon', '-5s', '']) {
      await assert.rejects(s.traffic.pause('a', bad), usage(`--max must be a duration from 1s to 1h (e.g. 30s, 5m), got '${bad}'`));
    }
    assert.equal(s.settings.get('a', 'paused-until'), null);
    assert.deepEqual(s.proxy.sent, []);
  });

  test('resume clears the pause and says whether one was still holding requests', async () => {
    const s = services();
    s.proxy.route('a');
    await s.traffic.pause('a', '10s');
    assert.deepEqual(await s.traffic.resume('a'), { wasPaused: true, applied: true });
    assert.equal(s.settings.get('a', 'paused-until'), null);
    assert.deepEqual(await s.traffic.resume('a'), { wasPaused: false, applied: true });
    await s.traffic.pause('a', '10s');
    mock.timers.tick(10_001);
    assert.deepEqual(await s.traffic.resume('a'), { wasPaused: false, applied: true }, 'a pause past its deadline holds nothing');
    assert.deepEqual(s.proxy.sent.at(-1)!.controls, {});
  });

  test('a pause past its deadline is not sent again with other controls', async () => {
    const s = services();
    s.proxy.route('a');
    await s.traffic.pause('a', '10s');
    mock.timers.tick(10_000);
    await s.traffic.maintenance('a', 'on', 'm');
    assert.deepEqual(s.proxy.sent.at(-1)!.controls, { maintenance: 'm' });
  });
});

describe('TrafficService.set and parseBodySize', () => {
  test('max-body-size takes bytes or k/m/g (with an optional b), from 1k to 100g', async () => {
    const s = services();
    s.proxy.route('a');
    assert.deepEqual(await s.traffic.set('a', 'max-body-size', '100m'), { bytes: 100 * 1024 ** 2, applied: true });
    assert.equal(s.settings.get('a', 'max-body-size'), 100 * 1024 ** 2);
    assert.deepEqual(s.proxy.sent, [{ service: 'a', controls: { maxBodyBytes: 100 * 1024 ** 2 } }]);
    const sizes: [string, number][] = [
      ['1k', 1024],
      ['512KB', 512 * 1024],
      [' 1g ', 1024 ** 3],
      ['100g', 100 * 1024 ** 3],
      ['1048576', 1048576],
      ['1024b', 1024],
    ];
    for (const [text, bytes] of sizes) assert.equal(parseBodySize(text), bytes, text);
  });

  test('a size outside 1k..100g, a unit it does not know, or another setting is a usage error; nothing stored', async () => {
    const s = services();
    s.proxy.route('a');
    for (const bad of ['1023', '0', '101g', '1t', '1.5m', 'big', '', '-1k']) {
      await assert.rejects(
        s.traffic.set('a', 'max-body-size', bad),
        usage(`max-body-size must be a size from 1k to 100g (e.g. 100m, 512k, 1g), got '${bad}'`),
      );
    }
    await assert.rejects(s.traffic.set('a', 'timeout', '5s'), usage("unknown proxy setting 'timeout' (use max-body-size)"));
    assert.equal(s.settings.get('a', 'max-body-size'), null);
    assert.deepEqual(s.proxy.sent, []);
  });
});

describe('TrafficService.report', () => {
  test("a routed app shows the proxy's own view of its controls", async () => {
    const s = services();
    const service = s.proxy.route('a', { maintenance: 'from proxy', pausedUntil: NOW + 5000, maxBodyBytes: 2048 });
    s.settings.write('a', 'maintenance', 'stored');
    assert.deepEqual(await s.traffic.report('a'), {
      app: 'a',
      proxy: { pid: 7, httpPort: 80, httpsPort: 443, services: 1 },
      routed: true,
      service,
      maintenance: 'from proxy',
      pausedUntil: NOW + 5000,
      maxBodyBytes: 2048,
    });
  });

  test('an app without a route shows what is stored, a finished pause as none, and the 100 MiB default', async () => {
    const s = services();
    s.proxy.route('other');
    await s.traffic.maintenance('a', 'on', 'stored');
    await s.traffic.pause('a', '10s');
    const r = await s.traffic.report('a');
    assert.deepEqual(
      { routed: r.routed, service: r.service, maintenance: r.maintenance, pausedUntil: r.pausedUntil, max: r.maxBodyBytes },
      { routed: false, service: null, maintenance: 'stored', pausedUntil: NOW + 10_000, max: 100 * 1024 * 1024 },
    );
    mock.timers.tick(10_000);
    await s.traffic.set('a', 'max-body-size', '2k');
    const later = await s.traffic.report('a');
    assert.deepEqual([later.pausedUntil, later.maxBodyBytes], [null, 2048]);
  });
});
