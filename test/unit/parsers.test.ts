import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGitRemote } from '../../src/client/git-remote.js';
import { parseAppJson } from '../../src/deploy/app-json.js';
import { parseProcfile } from '../../src/deploy/procfile.js';
import { appFromRepoPath } from '../../src/git/repo-path.js';
import { parseExecCommand } from '../../src/ssh/exec-parser.js';
import { suggest } from '../../src/plugin-host/suggest.js';

test('exec commands split as POSIX words without a shell', () => {
  assert.deepEqual(parseExecCommand(`config:set myapp 'A=b c' B="x=y" C=\\$HOME`), ['config:set', 'myapp', 'A=b c', 'B=x=y', 'C=$HOME']);
  assert.deepEqual(parseExecCommand("git-receive-pack '/myapp.git'"), ['git-receive-pack', '/myapp.git']);
  assert.deepEqual(parseExecCommand('run myapp echo $PATH'), ['run', 'myapp', 'echo', '$PATH']);
  assert.throws(() => parseExecCommand('apps:list; rm -rf /'), /shell syntax ';'/);
  assert.throws(() => parseExecCommand('apps:list | cat'), /shell syntax '\|'/);
  assert.throws(() => parseExecCommand('x'.repeat(9000)), /longer than/);
});

test('repo paths name the same app with or without / and .git; bad paths are refused', () => {
  for (const p of ['myapp', '/myapp', 'myapp.git', '/myapp.git', '~/myapp']) assert.equal(appFromRepoPath(p), 'myapp');
  for (const p of ['../x', 'a/b', 'UPPER', '', '/', `a${'b'.repeat(48)}`, '9lives'])
    assert.throws(() => appFromRepoPath(p), /not an app repository/);
});

test('git remotes in both forms give user, host, port and app', () => {
  assert.deepEqual(parseGitRemote('ssh://paas@example.com:2222/myapp'), { user: 'paas', host: 'example.com', port: 2222, app: 'myapp' });
  assert.deepEqual(parseGitRemote('ssh://paas@10.0.0.1/myapp.git'), { user: 'paas', host: '10.0.0.1', port: null, app: 'myapp' });
  assert.deepEqual(parseGitRemote('paas@host:myapp'), { user: 'paas', host: 'host', port: null, app: 'myapp' });
  assert.deepEqual(parseGitRemote('dokku@host:/myapp.git'), { user: 'dokku', host: 'host', port: null, app: 'myapp' });
  assert.throws(() => parseGitRemote('https://github.com/x/y'), /cannot read host and app/);
});

test('Procfile lines parse; a malformed line names its number', () => {
  assert.deepEqual(parseProcfile('# c\nweb: httpd -f -p $PORT\n\nworker:   sh -c "sleep 1"\n'), {
    web: 'httpd -f -p $PORT',
    worker: 'sh -c "sleep 1"',
  });
  assert.throws(() => parseProcfile('web: ok\nnonsense here'), /line 2/);
});

test("app.json's healthchecks, formation and dokku scripts are read", () => {
  const j = parseAppJson(
    JSON.stringify({
      healthchecks: { web: [{ type: 'startup', path: '/up', attempts: 4, timeout: 3, wait: 1 }] },
      formation: { web: { quantity: 2 }, worker: { quantity: 1 } },
      scripts: { dokku: { predeploy: 'migrate', postdeploy: 'notify' } },
    }),
  );
  assert.deepEqual(j.healthcheck, { path: '/up', attempts: 4, timeout: 3, wait: 1 });
  assert.deepEqual(j.formation, { web: 2, worker: 1 });
  assert.equal(j.predeploy, 'migrate');
  assert.equal(j.postdeploy, 'notify');
  assert.throws(() => parseAppJson('{nope'), /not valid JSON/);
  assert.throws(() => parseAppJson('{"formation":{"web":{"quantity":-1}}}'), /whole number/);
});

test('did-you-mean finds the near command', () => {
  assert.equal(suggest('apps:lst', ['apps:list', 'apps:info', 'config:set']), 'apps:list');
  assert.equal(suggest('zzzzzz', ['apps:list']), null);
});
