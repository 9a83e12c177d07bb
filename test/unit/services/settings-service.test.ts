import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, test } from 'node:test';
import { formatMemory } from '../../../src/deploy/resource-limits.js';
import { DEFAULT_PIDS_LIMIT } from '../../../src/runtime/container-hardening.js';
import { HOST_LIMIT_KEYS } from '../../../src/deploy/host-limits.js';

const DEFAULT_MEMORY_KEY = HOST_LIMIT_KEYS.defaultMemory;
import { Captured } from '../fakes/deploy-fakes.js';
import { ADMIN, developer, never, pushHoldsLock, settingsSetup, settle } from '../fakes/app-services-fakes.js';

const io = () => ({ out: new Captured(), signal: never });
const MiB = 1024 ** 2;

/** The settings service with app `a` made (no deploy yet). */
function withApp() {
  const s = settingsSetup();
  s.state.apps.create('a');
  return s;
}

describe('SettingsService: health checks, builder, build args', () => {
  test('checks start at the defaults; checks:set merges into what was set and returns the effective checks', async () => {
    const s = withApp();
    assert.deepEqual(s.service.checks('a'), { path: null, timeout: 5, attempts: 60, wait: 2 });
    assert.deepEqual(await s.service.setChecks('a', ['path=/up', 'wait=0'], io()), { path: '/up', timeout: 5, attempts: 60, wait: 0 });
    assert.deepEqual(await s.service.setChecks('a', ['timeout=9', 'path=none'], io()), { path: null, timeout: 9, attempts: 60, wait: 0 });
    assert.deepEqual(s.settings.get('a', 'checks'), { path: null, wait: 0, timeout: 9 });
  });

  test('a bad check setting is refused and the stored checks stay', async () => {
    const s = withApp();
    await s.service.setChecks('a', ['wait=1'], io());
    await assert.rejects(s.service.setChecks('a', ['path=/ok', 'timeout=0'], io()), {
      code: 'PAAS_ERR_CHECKS_VALUE',
      message: "timeout must be a whole number from 1 to 300, got '0'",
    });
    await assert.rejects(s.service.setChecks('a', ['retries=3'], io()), { code: 'PAAS_ERR_CHECKS_KEY' });
    assert.deepEqual(s.settings.get('a', 'checks'), { wait: 1 });
  });

  test('the builder is stored lower-cased; auto removes it; an unknown builder is refused', async () => {
    const s = withApp();
    assert.equal(await s.service.setBuilder('a', 'Pack', io()), 'pack');
    assert.equal(s.settings.get('a', 'builder'), 'pack');
    await assert.rejects(s.service.setBuilder('a', 'heroku', io()), {
      code: 'PAAS_ERR_BUILDER_UNKNOWN',
      message: "unknown builder 'heroku' (use dockerfile, pack, template, auto)",
      exitCode: 2,
    });
    assert.equal(s.settings.get('a', 'builder'), 'pack');
    assert.equal(await s.service.setBuilder('a', 'AUTO', io()), 'auto');
    assert.equal(s.settings.get('a', 'builder'), null);
    assert.deepEqual(s.state.appSettings.all('a'), {}, 'auto is stored as absent');
  });

  test('build args: K=V sets, K= removes; malformed input changes nothing', async () => {
    const s = withApp();
    assert.deepEqual(await s.service.updateBuildArgs('a', ['A=1', 'B=x=y'], io()), { A: '1', B: 'x=y' });
    assert.deepEqual(await s.service.updateBuildArgs('a', ['A=', 'C=3', 'NOPE='], io()), { B: 'x=y', C: '3' });
    await assert.rejects(s.service.updateBuildArgs('a', ['D=4', '1X=2'], io()), { code: 'PAAS_ERR_CONFIG_KEY' });
    await assert.rejects(s.service.updateBuildArgs('a', ['D'], io()), { code: 'PAAS_ERR_CONFIG_MALFORMED' });
    await assert.rejects(s.service.updateBuildArgs('a', [], io()), { code: 'PAAS_ERR_CONFIG_USAGE' });
    assert.deepEqual(s.service.buildArgs('a'), { B: 'x=y', C: '3' });
  });

  test('a write waits for the app lock and says who holds it', async () => {
    const s = withApp();
    const release = await pushHoldsLock(s.locks, 'a');
    const out = new Captured();
    const setting = s.service.setBuilder('a', 'pack', { out, signal: never });
    await settle();
    assert.equal(out.text, '-----> Waiting for a git push of a to finish\n');
    assert.equal(s.settings.get('a', 'builder'), null);
    await release();
    await setting;
    assert.equal(s.settings.get('a', 'builder'), 'pack');
  });

  test('an unset app reads the defaults', () => {
    const s = withApp();
    assert.deepEqual(
      [s.service.mounts('a'), s.service.resources('a'), s.service.hardening('a'), s.service.buildArgs('a')],
      [[], {}, true, {}],
    );
    assert.match(s.service.hardeningSummary(), new RegExp(`^no-new-privileges, dropped .+, pids limit ${DEFAULT_PIDS_LIMIT}$`));
  });
});

describe('SettingsService: resource limits', () => {
  test('an admin key sets, widens and clears limits per process type and for *', async () => {
    const s = withApp();
    s.processes.set('a', new Set(['web', 'worker']));
    assert.deepEqual(await s.service.limit('a', 'web', ['memory=512m', 'cpus=0.5'], ADMIN, io()), {
      web: { memoryBytes: 512 * MiB, nanoCpus: 500_000_000 },
    });
    await s.service.limit('a', '*', ['memory=1g'], ADMIN, io());
    assert.deepEqual(await s.service.limit('a', 'web', ['memory=none'], ADMIN, io()), {
      web: { nanoCpus: 500_000_000 },
      '*': { memoryBytes: 1024 * MiB },
    });
    await s.service.limit('a', 'web', ['cpus=none'], ADMIN, io());
    assert.deepEqual(s.service.resources('a'), { '*': { memoryBytes: 1024 * MiB } });
  });

  test('an unknown process type or malformed limit is refused before anything changes', async () => {
    const s = withApp();
    s.processes.set('a', new Set(['web', 'worker']));
    await assert.rejects(s.service.limit('a', 'db', ['memory=512m'], ADMIN, io()), {
      code: 'PAAS_ERR_RESOURCE_USAGE',
      message: "unknown process type 'db' (known: web, worker); nothing was changed",
    });
    await assert.rejects(s.service.limit('a', 'web', ['memory=512'], ADMIN, io()), { code: 'PAAS_ERR_RESOURCE_USAGE' });
    await assert.rejects(s.service.limit('a', 'web', [], ADMIN, io()), { code: 'PAAS_ERR_RESOURCE_USAGE' });
    assert.deepEqual(s.service.resources('a'), {});
  });

  test('before the first deploy any well-formed process type may be limited', async () => {
    const s = withApp();
    assert.deepEqual(await s.service.limit('a', 'db', ['memory=64m'], ADMIN, io()), { db: { memoryBytes: 64 * MiB } });
    await assert.rejects(s.service.limit('a', 'Bad Type', ['memory=64m'], ADMIN, io()), { code: 'PAAS_ERR_RESOURCE_USAGE' });
  });

  test('a developer key stays within the default memory limit and cannot lift it; CPU is not capped', async () => {
    const s = withApp();
    s.service.setDefaultMemory('512m');
    const dev = developer(['a']);
    await s.service.limit('a', 'web', ['memory=512m'], dev, io());
    await assert.rejects(s.service.limit('a', 'web', ['memory=513m'], dev, io()), {
      code: 'PAAS_ERR_RESOURCE_ABOVE_DEFAULT',
      message: 'memory 513m is above 512m (the default set with resource:set-global); an admin key may set more',
    });
    await assert.rejects(s.service.limit('a', 'web', ['memory=none', 'cpus=0.5'], dev, io()), {
      code: 'PAAS_ERR_RESOURCE_ABOVE_DEFAULT',
      message: 'a developer key cannot lift the memory limit; the most it may set is 512m (the default set with resource:set-global)',
    });
    assert.deepEqual(s.service.resources('a'), { web: { memoryBytes: 512 * MiB } });
    await s.service.limit('a', 'web', ['cpus=0.5'], dev, io());
    await s.service.limit('a', 'web', ['memory=2g'], ADMIN, io());
    assert.deepEqual(s.service.resources('a'), { web: { memoryBytes: 2048 * MiB, nanoCpus: 500_000_000 } });
  });

  test("without a default a developer key is held to the host's memory", async () => {
    const s = withApp();
    const dev = developer(['a']);
    const gib = Math.ceil(os.totalmem() / 1024 ** 3) + 1;
    await assert.rejects(s.service.limit('a', 'web', [`memory=${gib}g`], dev, io()), {
      code: 'PAAS_ERR_RESOURCE_ABOVE_DEFAULT',
      message: `memory ${gib}g is above ${formatMemory(os.totalmem())} (this host's memory); an admin key may set more`,
    });
    await s.service.limit('a', 'web', ['memory=64m'], dev, io());
    assert.deepEqual(await s.service.limit('a', 'web', ['memory=none'], dev, io()), {}, 'no default to lift');
  });
});

describe('SettingsService: resource:set and the global default memory', () => {
  test('hardening is admin only, takes on/off, and other keys are refused', async () => {
    const s = withApp();
    await assert.rejects(s.service.resourceSet('a', 'hardening', 'off', developer(['a']), io()), {
      code: 'PAAS_ERR_RESOURCE_FORBIDDEN',
      message: "'resource:set hardening' needs an admin key",
    });
    await assert.rejects(s.service.resourceSet('a', 'swap', 'on', ADMIN, io()), {
      code: 'PAAS_ERR_RESOURCE_SETTING',
      message: "unknown setting 'swap' (use hardening); nothing was changed",
    });
    await assert.rejects(s.service.resourceSet('a', 'hardening', 'maybe', ADMIN, io()), {
      code: 'PAAS_ERR_RESOURCE_SETTING',
      message: "hardening must be on or off, got 'maybe'; nothing was changed",
    });
    assert.equal(s.service.hardening('a'), true);
    assert.equal(await s.service.resourceSet('a', 'hardening', 'OFF', ADMIN, io()), false);
    assert.equal(s.service.hardening('a'), false);
    assert.equal(await s.service.resourceSet('a', 'hardening', 'true', ADMIN, io()), true);
    assert.deepEqual(s.state.appSettings.all('a'), {}, 'on is the default: stored as absent');
  });

  test('the default memory limit is stored in bytes; none clears it; a bad size is refused', () => {
    const s = withApp();
    assert.equal(s.service.defaultMemory(), null);
    assert.equal(s.service.setDefaultMemory('1.5g'), 1536 * MiB);
    assert.equal(s.state.settings.get(DEFAULT_MEMORY_KEY), String(1536 * MiB));
    assert.equal(s.service.defaultMemory(), 1536 * MiB);
    assert.throws(() => s.service.setDefaultMemory('lots'), { code: 'PAAS_ERR_RESOURCE_USAGE' });
    assert.equal(s.service.defaultMemory(), 1536 * MiB);
    assert.equal(s.service.setDefaultMemory('NONE'), null);
    assert.equal(s.state.settings.get(DEFAULT_MEMORY_KEY), '');
    assert.equal(s.service.defaultMemory(), null);
    s.state.settings.set(DEFAULT_MEMORY_KEY, '-5');
    assert.equal(s.service.defaultMemory(), null, 'a stored value that is no size reads as none');
  });
});
