import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployFormation } from '../../../src/deploy/deploy-formation.js';
import { parseAppJson } from '../../../src/deploy/app-json.js';
import { commandArgs, isTini, words } from '../../../src/runtime/entrypoint-command.js';
import { commitConfig } from '../../../src/runtime/task-commit.js';

test('without an ENTRYPOINT, or under tini, a command runs through /bin/sh -c', () => {
  assert.deepEqual(commandArgs('httpd -p $PORT', null), ['/bin/sh', '-c', 'httpd -p $PORT']);
  assert.deepEqual(commandArgs('httpd -p $PORT', []), ['/bin/sh', '-c', 'httpd -p $PORT']);
  for (const ep of [
    ['/tini', '--'],
    ['/usr/bin/tini', '--'],
    ['tini', '-g', '--'],
    ['/sbin/tini-static', '--'],
    ['/usr/bin/docker-init', '--'],
  ]) {
    assert.ok(isTini(ep), ep.join(' '));
    assert.deepEqual(commandArgs('echo $HOME', ep), ['/bin/sh', '-c', 'echo $HOME']);
  }
  assert.ok(!isTini(['/docker-entrypoint.sh']));
  assert.ok(!isTini(['/usr/bin/tinier']));
});

test('with another ENTRYPOINT, the command is handed over as words: quotes group, nothing expands', () => {
  assert.deepEqual(commandArgs('touch /app/x', ['/entry.sh']), ['touch', '/app/x']);
  assert.deepEqual(words(`stamp "two words" $HOME 'a;b' \${X}`), ['stamp', 'two words', '$HOME', 'a;b', '$X']);
  assert.deepEqual(words('migrate && seed *.sql # comment'), ['migrate', '&&', 'seed', '*.sql']);
  assert.deepEqual(words('a\\ b'), ['a b']);
});

test('a committed predeploy image keeps its own config and bakes in no config values nor one-off labels', () => {
  const image = {
    Env: ['PATH=/bin', 'NODE_ENV=production'],
    Cmd: null,
    Entrypoint: ['/entry.sh'],
    Labels: { maintainer: 'x' },
    WorkingDir: '/app',
  };
  const c = commitConfig(image as never, ['PATH=/bin', 'NODE_ENV=staging', 'SECRET=s3cret', 'PORT=5000', 'SECRET=again'], {
    'paas.oneoff': '1',
    maintainer: 'y',
  }) as Record<string, unknown>;
  assert.deepEqual(c.Env, ['PATH=/bin', 'NODE_ENV=production', 'SECRET', 'PORT']);
  assert.deepEqual(c.Labels, { 'paas.oneoff': '', maintainer: 'x' });
  assert.deepEqual(c.Entrypoint, ['/entry.sh']);
  assert.equal(c.Cmd, null);
  assert.equal(c.WorkingDir, '/app');
});

test('formation: ps:scale from before the first deploy is kept, web=1 only when unset, app.json formation wins at every deploy', () => {
  const procs = { web: 'serve', worker: 'work', clock: 'tick' };
  assert.deepEqual(deployFormation({ web: 2, worker: 2 }, true, procs, null), { web: 2, worker: 2, clock: 0 });
  assert.deepEqual(deployFormation({}, true, {}, null), { web: 1 });
  assert.deepEqual(deployFormation({ web: 3 }, false, {}, null), { web: 3 });
  const appJson = parseAppJson(JSON.stringify({ formation: { web: { quantity: 1 }, worker: { quantity: 4 } } }));
  assert.deepEqual(deployFormation({ web: 3, worker: 0, clock: 2 }, false, procs, appJson), { web: 1, worker: 4, clock: 2 });
});

test('app.json scripts: dokku predeploy/postdeploy and the top-level postdeploy; a non-string is refused', () => {
  const j = parseAppJson(JSON.stringify({ scripts: { dokku: { predeploy: 'a', postdeploy: ' ' }, postdeploy: 'seed' } }));
  assert.deepEqual([j.predeploy, j.postdeploy, j.firstDeploy], ['a', null, 'seed']);
  assert.throws(() => parseAppJson(JSON.stringify({ scripts: { postdeploy: 3 } })), {
    code: 'PAAS_ERR_DEPLOY_APP_JSON',
    message: 'app.json: scripts.postdeploy must be a command string',
  });
});
