import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { commitFiles, push, remoteSha, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runningReplicas } from '../helpers/docker.js';
import { startLoad } from '../helpers/load.js';
import { PaasServer } from '../helpers/paas-server.js';

// Dokku's deployment tasks, pushed for real: app.json scripts.dokku.predeploy (committed into the
// image), Procfile release: and postdeploy (not committed), top-level scripts.postdeploy (first
// deploy only), commands handed to an ENTRYPOINT as words, and an all-or-nothing postdeploy.

let paas: PaasServer;
const work = (name: string) => path.join(paas.dataDir, 'work', name);

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

const running = (app: string) => runningReplicas(paas.labels, app);

/** An ENTRYPOINT that special-cases its first argument, as many images' docker-entrypoint.sh do: `serve` and `stamp` are its own verbs, anything else is run as given. */
const ENTRY = `#!/bin/sh
case "$1" in
  serve) exec httpd -f -p "$PORT" -h /www ;;
  stamp) shift; echo "entrypoint stamp got $# args: $*"; for a in "$@"; do echo "$a"; done > /www/stamp.txt; exit 0 ;;
esac
exec "$@"
`;

test('an ENTRYPOINT gets Procfile commands and tasks as words; predeploy changes are committed and `paas run` finds them; release and postdeploy changes are not', async () => {
  const repo = work('entry');
  await commitFiles(repo, {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCOPY entry.sh /entry.sh\nRUN chmod +x /entry.sh\nENTRYPOINT ["/entry.sh"]\n`,
    'entry.sh': ENTRY,
    'www/index.html': 'entry-v1\n',
    Procfile: ['web: serve', 'release: touch /www/release.txt'].join('\n'),
    'app.json': JSON.stringify({
      scripts: {
        dokku: { predeploy: `stamp "two words" $HOME 'a;b'`, postdeploy: 'touch /www/postdeploy.txt' },
        postdeploy: 'echo first-deploy-only',
      },
    }),
  });
  const r = await push(paas, repo, 'entry');
  assert.equal(r.exitCode, 0, r.output);
  // the entrypoint saw the words, quotes kept, no shell: $HOME and ; arrive as written
  assert.match(r.output, /remote: entrypoint stamp got 3 args: two words \$HOME a;b/);
  assert.match(r.output, /filesystem changes committed into paas\/entry:v1/);
  assert.match(r.output, /Running release task: touch \/www\/release.txt/);
  assert.match(r.output, /Running postdeploy: touch \/www\/postdeploy.txt/);
  assert.match(r.output, /Running postdeploy \(first deploy\): echo first-deploy-only\s*\n(remote: )?first-deploy-only/);
  assert.ok(r.output.indexOf('entrypoint stamp') < r.output.indexOf('Running release task'), 'predeploy, then the release task');
  assert.ok(r.output.indexOf('Running release task') < r.output.indexOf('-----> Starting web=1'), 'both before any container starts');
  assert.ok(r.output.indexOf('traffic switched') < r.output.indexOf('Running postdeploy: touch'), 'postdeploy after the switch');

  assert.equal(
    (await viaProxy(paas, 'entry.paas.test', '/stamp.txt')).body,
    'two words\n$HOME\na;b\n',
    'the web container serves the committed file',
  );
  const run = await paas.ssh('run entry cat /www/stamp.txt');
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(run.stdout, 'two words\n$HOME\na;b\n');
  const ls = await paas.ssh('run entry ls /www');
  assert.doesNotMatch(ls.stdout, /release\.txt|postdeploy\.txt/, 'release and postdeploy changes are not committed');
  // no config value is baked into the committed image: the env comes from the release at run time
  const env = await paas.ssh('config:set entry SECRET_TOKEN=s3cret');
  assert.equal(env.exitCode, 0, env.stderr);
  const img = await dockerClient().getImage('paas/entry:v1').inspect();
  assert.ok(!(img.Config.Env ?? []).some((e) => e.includes('s3cret') || e.startsWith('PORT=')), JSON.stringify(img.Config.Env));
  assert.deepEqual(img.Config.Entrypoint, ['/entry.sh'], 'the image keeps its own entrypoint');
  assert.ok(!('paas.oneoff' in (img.Config.Labels ?? {})), 'containers of the image are not marked one-off');

  // a second deploy: scripts.postdeploy (top level) ran at the first deploy only
  await commitFiles(repo, { 'www/index.html': 'entry-v2\n' });
  const r2 = await push(paas, repo, 'entry');
  assert.equal(r2.exitCode, 0, r2.output);
  assert.doesNotMatch(r2.output, /first-deploy-only/);
  assert.equal((await viaProxy(paas, 'entry.paas.test')).body, 'entry-v2\n');
});

test('a tini ENTRYPOINT runs Procfile commands through /bin/sh -c, so $PORT expands', async () => {
  const repo = work('tini');
  await commitFiles(repo, {
    // a stand-in with tini's name and contract (`tini -- cmd...` runs cmd): the name is what paas looks at
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCOPY tini /usr/bin/tini\nRUN chmod +x /usr/bin/tini\nENTRYPOINT ["/usr/bin/tini", "--"]\n`,
    tini: '#!/bin/sh\n[ "$1" = "--" ] && shift\nexec "$@"\n',
    'www/index.html': 'tini-v1\n',
    Procfile: 'web: httpd -f -p $PORT -h /www',
    'app.json': JSON.stringify({ scripts: { dokku: { predeploy: 'echo "predeploy under tini, port $PORT" > /www/p.txt' } } }),
  });
  const r = await push(paas, repo, 'tini');
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await viaProxy(paas, 'tini.paas.test')).body, 'tini-v1\n');
  assert.equal((await viaProxy(paas, 'tini.paas.test', '/p.txt')).body, 'predeploy under tini, port 5000\n');
});

test('a failing postdeploy under load: traffic goes back to v1 with no failed request, v2 goes, the push fails with its output, the branch stays', async () => {
  const repo = work('post');
  const files = (marker: string, postdeploy: string) => ({
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCMD httpd -f -p $PORT -h /www\n`,
    'www/index.html': `${marker}\n`,
    // a predeploy on an image with a CMD and no ENTRYPOINT: committed, and the CMD still serves
    'app.json': JSON.stringify({ scripts: { dokku: { predeploy: `echo ${marker} predeploy > /www/pre.txt`, postdeploy } } }),
  });
  const v1 = await commitFiles(repo, files('post-v1', 'echo fine'));
  assert.equal((await push(paas, repo, 'post')).exitCode, 0);
  assert.equal((await viaProxy(paas, 'post.paas.test', '/pre.txt')).body, 'post-v1 predeploy\n');
  await commitFiles(repo, files('post-v2', "sh -c 'echo cache warm-up failed: no such bucket; exit 7'"));
  const load = startLoad({ port: paas.ports.http, host: 'post.paas.test', clients: 6 });
  const bodies = new Set<string>();
  const sampler = setInterval(() => {
    viaProxy(paas, 'post.paas.test').then(
      (res) => bodies.add(res.body),
      () => {},
    );
  }, 25);
  let r: Awaited<ReturnType<typeof push>>;
  try {
    await load.more(16);
    r = await push(paas, repo, 'post');
    await load.more(16);
  } finally {
    clearInterval(sampler);
    const report = await load.stop();
    assert.deepEqual(report.errors, {}, `socket errors: ${JSON.stringify(report)}`);
    assert.equal(report.non2xx, 0, `non-2xx: ${JSON.stringify(report.statuses)}`);
  }
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /remote: cache warm-up failed: no such bucket/);
  assert.match(r.output, /postdeploy exited with code 7\s*\n.*last lines of its output:\s*\n.*cache warm-up failed: no such bucket/);
  assert.match(r.output, /Switching traffic back to the previous 1 web container\(s\)/);
  assert.ok(bodies.has('post-v2\n'), 'traffic was on v2 while postdeploy ran');
  assert.equal((await viaProxy(paas, 'post.paas.test')).body, 'post-v1\n');
  assert.equal((await viaProxy(paas, 'post.paas.test', '/pre.txt')).body, 'post-v1 predeploy\n');
  assert.deepEqual(await running('post'), ['web@v1']);
  assert.equal(await remoteSha(paas, 'post'), v1, 'the branch did not advance');
});

test('bad app.json scripts are refused with one line and nothing deployed', async () => {
  const repo = work('badscripts');
  await commitFiles(repo, {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCMD httpd -f -p $PORT -h /www\n`,
    'www/index.html': 'bad\n',
    'app.json': JSON.stringify({ scripts: { dokku: { predeploy: ['rm', '-rf', '/'] } } }),
  });
  const r = await push(paas, repo, 'badscripts');
  assert.equal(r.exitCode, 1, r.output);
  assert.match(r.output, /app\.json: scripts\.dokku\.predeploy must be a command string/);
  assert.deepEqual(await running('badscripts'), []);
  assert.equal(await remoteSha(paas, 'badscripts'), null);
});
