// Host paths for storage: symlinks are never followed (lstat from / down, at mount time and again
// before a rollout starts any container) and admins mount outside the app's storage only under the
// roots allowed with storage:allow-root, which are checked themselves.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { StoragePolicy } from '../../../src/deploy/storage-mounts.js';
import { Rollout } from '../../../src/deploy/rollout.js';
import { StageOutput } from '../../../src/deploy/stage-output.js';
import { checkAllowedRoot, checkBinds, firstSymlink, nestingProblem, parseMount } from '../../../src/deploy/storage-mounts.js';
import { silentLogger } from '../../../src/log/logger.js';
import { StorageService } from '../../../src/services/storage-service.js';
import { Captured, FakeProxy, FakeRuntime, FakeStore, release } from '../fakes/deploy-fakes.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? 'no-code';
  }
  return 'no-error';
};

let root: string;
let dataDir: string;
let own: string;
let srv: string;
const sock = () => path.join(root, 'run', 'docker.sock');

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-roots-'));
  dataDir = path.join(root, 'data');
  own = path.join(dataDir, 'storage', 'web1');
  srv = path.join(root, 'srv');
  fs.mkdirSync(path.join(own, 'data', 'real'), { recursive: true });
  fs.mkdirSync(path.join(dataDir, 'keys'), { recursive: true });
  fs.mkdirSync(path.join(srv, 'a'), { recursive: true });
  fs.mkdirSync(path.dirname(sock()));
  fs.writeFileSync(sock(), '');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('firstSymlink', () => {
  test('finds a symlink at any depth without following it; a missing tail has none', () => {
    fs.symlinkSync('/etc', path.join(own, 'data', 'etc-link'));
    fs.symlinkSync(path.join(own, 'data', 'real'), path.join(own, 'inner-link'));
    assert.equal(firstSymlink(path.join(own, 'data', 'etc-link')), path.join(own, 'data', 'etc-link'));
    assert.equal(firstSymlink(path.join(own, 'data', 'etc-link', 'ssh', 'x')), path.join(own, 'data', 'etc-link'));
    assert.equal(firstSymlink(path.join(own, 'inner-link', 'deeper')), path.join(own, 'inner-link'));
    assert.equal(firstSymlink(path.join(own, 'data', 'real')), null);
    assert.equal(firstSymlink(path.join(own, 'data', 'missing', 'more')), null);
    assert.equal(firstSymlink('/var/run/docker.sock'), fs.lstatSync('/var/run').isSymbolicLink() ? '/var/run' : null);
  });

  test('storage:mount refuses a symlink planted in the app storage (PAAS_ERR_STORAGE_SYMLINK), for admins and developers', () => {
    for (const role of ['admin', 'developer'] as const) {
      const ctx = { app: 'web1', dataDir, role, allowedRoots: [srv], dockerSockets: [sock()] };
      for (const host of ['data/etc-link', 'data/etc-link/ssh', 'inner-link', `${own}/data/etc-link`]) {
        assert.throws(
          () => parseMount(`${host}:/x`, ctx),
          (e: Error & { code?: string; exitCode?: number }) =>
            e.code === 'PAAS_ERR_STORAGE_SYMLINK' &&
            e.exitCode === 1 &&
            e.message ===
              `refusing to mount ${host}: ${host.includes('inner') ? path.join(own, 'inner-link') : path.join(own, 'data', 'etc-link')} is a symlink (symlinks on a host path are never followed); nothing was changed`,
          `${host} as ${role}`,
        );
      }
    }
  });
});

describe('checkAllowedRoot', () => {
  const policy = () => ({ dataDir, dockerSockets: [sock()] });

  test('an absolute existing dir without symlinks, normalized', () => {
    assert.equal(checkAllowedRoot(`${srv}/`, policy()), srv);
    assert.equal(checkAllowedRoot(path.join(dataDir, 'storage'), policy()), path.join(dataDir, 'storage'));
  });

  test('refuses relative, missing, file, .., symlinked and never-mounted roots', () => {
    fs.writeFileSync(path.join(srv, 'file'), '');
    fs.symlinkSync(srv, path.join(root, 'srv-link'));
    const cases: Array<[string, string]> = [
      ['srv', 'PAAS_ERR_STORAGE_ROOT'],
      [path.join(root, 'nope'), 'PAAS_ERR_STORAGE_ROOT'],
      [path.join(srv, 'file'), 'PAAS_ERR_STORAGE_ROOT'],
      [`${srv}/../srv`, 'PAAS_ERR_STORAGE_ROOT'],
      [path.join(root, 'srv-link'), 'PAAS_ERR_STORAGE_SYMLINK'],
      [path.join(root, 'srv-link', 'a'), 'PAAS_ERR_STORAGE_SYMLINK'],
      ['/', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/etc', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/etc/ssh', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/root', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/proc', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/sys', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/dev', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/run', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/var/lib/docker', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      ['/var', 'PAAS_ERR_STORAGE_FORBIDDEN'],
      [path.dirname(sock()), 'PAAS_ERR_STORAGE_FORBIDDEN'],
      [dataDir, 'PAAS_ERR_STORAGE_FORBIDDEN'],
      [path.join(dataDir, 'keys'), 'PAAS_ERR_STORAGE_FORBIDDEN'],
      [root, 'PAAS_ERR_STORAGE_FORBIDDEN'],
    ];
    for (const [dir, code] of cases) {
      if (dir.startsWith('/etc/ssh') && !fs.existsSync(dir)) continue;
      assert.equal(
        codeOf(() => checkAllowedRoot(dir, policy())),
        code,
        dir,
      );
    }
  });
});

describe('StorageService roots', () => {
  test('allow-root stores a JSON list under storage.allowed-roots; mounts under a root then pass; --remove takes it back', () => {
    const globals = new Map<string, string>();
    const svc = new StorageService({
      settings: { update: async () => [], mounts: () => [] } as never,
      dataDir,
      globals: { get: (k) => globals.get(k), set: (k, v) => void globals.set(k, v) },
      allBinds: () => [],
    });
    assert.deepEqual(svc.allowedRoots(), []);
    assert.deepEqual(svc.allowRoot(`${srv}/`), { root: srv, added: true });
    assert.deepEqual(svc.allowRoot(srv), { root: srv, added: false });
    assert.equal(globals.get('storage.allowed-roots'), JSON.stringify([srv]));
    assert.equal(
      codeOf(() => svc.allowRoot('/etc')),
      'PAAS_ERR_STORAGE_FORBIDDEN',
    );
    assert.deepEqual(svc.allowedRoots(), [srv]);
    assert.equal(
      codeOf(() => svc.removeRoot('/srv/other')),
      'PAAS_ERR_STORAGE_ROOT_NOT_FOUND',
    );
    assert.equal(svc.removeRoot(`${srv}/`), srv);
    assert.deepEqual(svc.allowedRoots(), []);
  });
});

describe('Rollout checks binds again before starting any container', () => {
  class PolicyStore extends FakeStore {
    policy: StoragePolicy = { dataDir, allowedRoots: [], dockerSockets: [sock()] };
    override storagePolicy(): StoragePolicy {
      return this.policy;
    }
  }
  const never = new AbortController().signal;

  test('a symlink planted in the app storage after the mount fails release() and converge() with PAAS_ERR_STORAGE_SYMLINK; the old containers keep running', async () => {
    const runtime = new FakeRuntime();
    const store = new PolicyStore();
    const rollout = new Rollout(store, runtime, new FakeProxy(), silentLogger());
    const planted = path.join(own, 'later');
    fs.mkdirSync(planted);
    const ctx = { app: 'web1', dataDir, role: 'developer' as const, dockerSockets: [sock()] };
    const m = parseMount('later:/data', ctx);
    store.stored = { mounts: JSON.stringify([m.bind]) };
    const v1 = release('web1', 1, { formation: { web: 1 } });
    store.releases.set('web1', v1);
    await rollout.release('web1', v1, new StageOutput(new Captured()), never);
    assert.deepEqual(runtime.running('web1'), ['web1.web.1.v1']);
    assert.deepEqual(runtime.specs.at(-1)!.binds, [`${planted}:/data`]);

    // the app replaces its mounted dir by a symlink to /etc
    fs.rmSync(planted, { recursive: true });
    fs.symlinkSync('/etc', planted);
    runtime.calls.length = 0;
    const v2 = release('web1', 2, { formation: { web: 2 } });
    const expected = (e: Error & { code?: string }) =>
      e.code === 'PAAS_ERR_STORAGE_SYMLINK' &&
      e.message ===
        `refusing to mount ${planted} at /data in web1: ${planted} is a symlink (symlinks on a host path are never followed); no container was started and the running ones keep serving (storage:unmount web1 /data)`;
    await assert.rejects(rollout.release('web1', v2, new StageOutput(new Captured()), never), expected);
    store.formations.set('web1', { web: 3 });
    await assert.rejects(rollout.converge('web1', null, never), expected);
    assert.equal(runtime.calls.filter((c) => c.startsWith('start')).length, 0, runtime.calls.join(', '));
    assert.deepEqual(runtime.running('web1'), ['web1.web.1.v1']);
  });

  test('a bind under a root that was removed since is refused at the next rollout; under a still-allowed root it starts', async () => {
    const runtime = new FakeRuntime();
    const store = new PolicyStore();
    store.policy = { ...store.policy, allowedRoots: [srv] };
    const rollout = new Rollout(store, runtime, new FakeProxy(), silentLogger());
    store.stored = { mounts: JSON.stringify([`${srv}/a:/a:ro`]) };
    const v1 = release('web1', 1, { formation: { web: 1 } });
    store.releases.set('web1', v1);
    await rollout.release('web1', v1, new StageOutput(new Captured()), never);
    assert.deepEqual(runtime.specs.at(-1)!.binds, [`${srv}/a:/a:ro`]);
    store.policy = { ...store.policy, allowedRoots: [] };
    await assert.rejects(rollout.release('web1', release('web1', 2), new StageOutput(new Captured()), never), {
      code: 'PAAS_ERR_STORAGE_FORBIDDEN',
    });
    assert.deepEqual(runtime.running('web1'), ['web1.web.1.v1']);
    assert.doesNotThrow(() => checkBinds('web1', [`${srv}/a:/a`], { ...store.policy, allowedRoots: [srv] }));
  });
});

describe('nestingProblem', () => {
  const b = (app: string, bind: string) => ({ app, bind });
  test('a dir strictly inside a writable bind of any app is refused; so is a writable dir holding another bind', () => {
    assert.match(
      nestingProblem({ app: 'a', host: '/s/a/data/x', readOnly: false }, [b('a', '/s/a/data:/data')]) ?? '',
      /inside \/s\/a\/data, which its own mount at \/data can write/,
    );
    assert.match(
      nestingProblem({ app: 'a', host: '/s/a/data/x', readOnly: true }, [b('b', '/s/a/data:/d')]) ?? '',
      /app 'b''s mount at \/d/,
    );
    assert.match(
      nestingProblem({ app: 'a', host: '/s/a', readOnly: false }, [b('a', '/s/a/data:/data:ro')]) ?? '',
      /it holds \/s\/a\/data/,
    );
  });
  test('the same dir twice, siblings, a read-only outer dir holding a bind, and prefixes that are not parents are fine', () => {
    assert.equal(nestingProblem({ app: 'a', host: '/s/a/data', readOnly: false }, [b('b', '/s/a/data:/data')]), null);
    assert.equal(nestingProblem({ app: 'a', host: '/s/a/logs', readOnly: false }, [b('a', '/s/a/data:/data')]), null);
    assert.equal(nestingProblem({ app: 'a', host: '/s/a/data/x', readOnly: false }, [b('a', '/s/a/data:/data:ro')]), null);
    assert.equal(nestingProblem({ app: 'a', host: '/s/a', readOnly: true }, [b('a', '/s/a/data:/data')]), null);
    assert.equal(nestingProblem({ app: 'a', host: '/s/a/data2', readOnly: false }, [b('a', '/s/a/data:/data')]), null);
  });
});
