import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFormationMax, parseAppJson } from '../../../src/deploy/app-json.js';
import { Rollout } from '../../../src/deploy/rollout.js';
import { snapshotOf } from '../../../src/deploy/settings-schema.js';
import { silentLogger } from '../../../src/log/logger.js';
import { hardeningHostConfig } from '../../../src/runtime/container-hardening.js';
import { appNetworkName, baseCreateOptions } from '../../../src/runtime/container-naming.js';
import { FakeProxy, FakeRuntime, FakeStore, release } from '../fakes/deploy-fakes.js';

const spec = { app: 'shop', process: 'web', release: 3, replica: 1, image: 'paas/shop:v3', env: {}, port: 5000 };

describe('container hardening, networks and app.json formation', () => {
  test('a container is hardened unless the spec says hardening: false; Docker seccomp is never touched', () => {
    const hardened = {
      SecurityOpt: ['no-new-privileges:true'],
      CapDrop: ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'AUDIT_WRITE'],
      PidsLimit: 1024,
    };
    assert.deepEqual(hardeningHostConfig({}), hardened);
    assert.deepEqual(hardeningHostConfig({ hardening: true, pidsLimit: 64 }), { ...hardened, PidsLimit: 64 });
    assert.deepEqual(hardeningHostConfig({ hardening: false, pidsLimit: 64 }), {});
    const host = baseCreateOptions(spec, appNetworkName('paas', 'shop'), {}, true).HostConfig;
    assert.deepEqual(host, { NetworkMode: 'paas-shop', Memory: undefined, NanoCpus: undefined, Binds: undefined, Init: true, ...hardened });
  });

  test("Rollout.spec carries the app's hardening setting and the global default memory for processes without a limit", () => {
    const store = new FakeStore();
    let defaultMemory: number | null = 48 * 1024 ** 2;
    store.defaultMemory = () => defaultMemory;
    const rollout = new Rollout(store, new FakeRuntime(), new FakeProxy(), silentLogger());
    const r = release('shop', 3, { processes: { web: null, worker: 'w' } });
    const at = (stored: Record<string, string>, proc = 'web') => {
      const s = rollout.spec('shop', r, proc, 1, snapshotOf(stored));
      return [s.hardening, s.memoryBytes];
    };
    assert.deepEqual(at({}), [true, 48 * 1024 ** 2]);
    assert.deepEqual(at({ hardening: 'false' }), [false, 48 * 1024 ** 2]);
    const limits = JSON.stringify({ '*': { memoryBytes: 64 * 1024 ** 2 }, worker: { nanoCpus: 1e9 } });
    assert.deepEqual(at({ resources: limits }), [true, 64 * 1024 ** 2], "the app's own limit wins");
    assert.deepEqual(at({ resources: limits }, 'worker'), [true, 48 * 1024 ** 2], 'a process entry without memory gets the default');
    defaultMemory = null;
    assert.deepEqual(at({}), [true, undefined]);
  });

  test('the hardening setting is a boolean; anything else reads as the default (on)', () => {
    assert.equal(snapshotOf({}).hardening, true);
    assert.equal(snapshotOf({ hardening: 'false' }).hardening, false);
    assert.equal(snapshotOf({ hardening: '"off"' }).hardening, true);
  });

  test('app.json formation: process names as in apps:scale, quantities at most max-replicas', () => {
    assert.deepEqual(parseAppJson(JSON.stringify({ formation: { web: { quantity: 2 }, worker_2: { quantity: 0 } } })).formation, {
      web: 2,
      worker_2: 0,
    });
    for (const name of ['bad name', '-web', 'a/b', '']) {
      assert.throws(() => parseAppJson(JSON.stringify({ formation: { [name]: { quantity: 1 } } })), {
        code: 'PAAS_ERR_DEPLOY_APP_JSON',
        message: `app.json: formation has an invalid process type '${name}' (letters, digits, '_' and '-', as in apps:scale)`,
      });
    }
    assert.equal(checkFormationMax({ web: 20, worker: 0 }, 20), undefined);
    assert.throws(() => checkFormationMax({ web: 1, worker: 21 }, 20), {
      code: 'PAAS_ERR_DEPLOY_APP_JSON',
      message: "app.json: formation.worker.quantity 21 is more than this app's max replicas 20 (ps:set max-replicas)",
    });
  });
});
