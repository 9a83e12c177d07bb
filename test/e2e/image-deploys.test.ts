import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { MAIN, makeKey, PaasServer, sshOptions, TSX } from '../helpers/paas-server.js';

// Deploys without a build on the server, as a user on a small VPS drives them: `docker save | ssh
// paas@HOST git:load-image`, `git:from-image`, and `ps:rebuild` of a pushed app. Real OpenSSH,
// real Docker; hostile uploads (not a tar, a tar that is not a docker save, the wrong image).

let paas: PaasServer;
const run = randomBytes(3).toString('hex');
/** image names made by this file (labelled with the server's run label, so its cleanup removes them) */
const imageName = (what: string) => `paas-e2e-${what}-${run}`;

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

/** `docker build` of a busybox image serving `marker` on $PORT, tagged `ref`; returns its id. */
async function buildImage(ref: string, marker: string): Promise<string> {
  const labels = Object.entries(paas.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const dockerfile = `FROM ${BUSYBOX_IMAGE}\nRUN mkdir -p /www && echo ${marker} > /www/index.html\nCMD exec httpd -f -p $PORT -h /www\n`;
  await execa('docker', ['build', '-q', '-t', ref, ...labels, '-'], { input: dockerfile });
  return imageId(ref);
}

const imageId = async (ref: string) => (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();

/** `<producer> | ssh paas@127.0.0.1 <command>` through a real shell pipe. */
async function pipeToSsh(producer: string, command: string) {
  const ssh = ['ssh', ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', command].map((w) => `'${w}'`).join(' ');
  const r = await execa('bash', ['-o', 'pipefail', '-c', `${producer} | ${ssh}`], { reject: false, timeout: 300_000 });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const releases = async (app: string) =>
  JSON.parse((await paas.ssh(`releases ${app} --json -n 1000`)).stdout) as {
    version: number;
    status: string;
    commit: string | null;
    sourceImage: string | null;
  }[];
const body = async (app: string) => (await viaProxy(paas, `${app}.paas.test`)).body;

test('docker save | ssh git:load-image deploys the image as a release whose source is the image id; no tag on the host moves', async () => {
  const app = 'loaded';
  const noApp = await pipeToSsh('echo', `git:load-image ${app} x:1`);
  assert.match(noApp.stderr, /app 'loaded' does not exist/, 'like Dokku, the app is created first');
  assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  const ref = `${imageName('a')}:1`;
  const idA = await buildImage(ref, `built-elsewhere-${run}`);
  const tar = path.join(paas.dataDir, 'a.tar');
  await execa('docker', ['save', '-o', tar, ref]);
  const r = await pipeToSsh(`docker save ${ref}`, `git:load-image ${app} ${ref}`);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Loading .* from stdin/);
  assert.match(r.stdout, /Release v1 live at http:\/\/loaded\.paas\.test/);
  assert.equal(await body(app), `built-elsewhere-${run}\n`);
  const [v1] = await releases(app);
  assert.deepEqual([v1!.version, v1!.status, v1!.commit, v1!.sourceImage], [1, 'live', null, idA]);
  assert.match((await paas.ssh(`releases ${app}`)).stdout, new RegExp(`v1 .*image ${idA.slice(7, 19)}`));

  // the name now points at another image on the host: loading the saved tar deploys the tar's image
  // and leaves the host's tag where it is
  const idB = await buildImage(ref, `other-${run}`);
  assert.notEqual(idB, idA);
  const again = await pipeToSsh(`cat ${tar}`, `git:load-image ${app} ${ref}`);
  assert.equal(again.exitCode, 0, again.stderr + again.stdout);
  assert.equal(await body(app), `built-elsewhere-${run}\n`);
  assert.equal(await imageId(ref), idB, 'the host tag did not move');
  assert.equal((await releases(app))[0]!.sourceImage, idA);

  // an image release rolls back like any other
  const rb = await paas.ssh(`releases:rollback ${app} v1`);
  assert.equal(rb.exitCode, 0, rb.stderr);
  assert.equal((await releases(app))[0]!.sourceImage, idA);
});

test('docker save | paas git:load-image IMAGE:TAG works through the paas client from the app repo', async () => {
  const app = 'viaclient';
  assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  const ref = `${imageName('c')}:3`;
  const id = await buildImage(ref, `client-${run}`);
  const repo = fs.mkdtempSync(path.join(paas.dataDir, 'client-'));
  await execa('git', ['init', '-q', repo]);
  await execa('git', ['-C', repo, 'remote', 'add', 'paas', paas.remoteUrl(app)]);
  const client = `${process.execPath} --import ${TSX} ${MAIN}`;
  const r = await execa('bash', ['-o', 'pipefail', '-c', `docker save ${ref} | ${client} git:load-image ${ref}`], {
    cwd: repo,
    env: paas.clientEnv(),
    reject: false,
  });
  assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
  assert.match(String(r.stdout), /Release v1 live at http:\/\/viaclient\.paas\.test/);
  assert.equal(await body(app), `client-${run}\n`);
  assert.equal((await releases(app))[0]!.sourceImage, id);
});

test('hostile uploads are refused with one line, nothing loaded, the live release keeps serving', async () => {
  const app = 'guarded';
  assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  const ref = `${imageName('g')}:1`;
  await buildImage(ref, `guarded-${run}`);
  const ok = await pipeToSsh(`docker save ${ref}`, `git:load-image ${app} ${ref}`);
  assert.equal(ok.exitCode, 0, ok.stderr + ok.stdout);
  const other = `${imageName('o')}:1`;
  await buildImage(other, 'other');
  const junkDir = path.join(paas.dataDir, 'junk');
  fs.mkdirSync(junkDir, { recursive: true });
  fs.writeFileSync(path.join(junkDir, 'hello.txt'), 'not an image\n');
  // this file's images (other helpers' tests make images at the same time)
  const images = async () =>
    (await execa('docker', ['images', '-a', '-q', '--no-trunc', '--filter', `label=${runFilter(paas.labels)}`])).stdout
      .split('\n')
      .sort()
      .join(',');
  const imagesBefore = await images();

  for (const [producer, command, code, why] of [
    ['head -c 300000 /dev/urandom', `git:load-image ${app} ${ref}`, 2, /not a docker save tar/],
    [`tar -C ${junkDir} -cf - hello.txt`, `git:load-image ${app} ${ref}`, 2, /not `docker save` output \(it has no manifest.json\)/],
    [`docker save ${other}`, `git:load-image ${app} ${ref}`, 2, new RegExp(`the tar holds ${other}, not ${ref}`)],
    [`docker save ${ref} ${other}`, `git:load-image ${app} ${ref}`, 2, /the tar holds 2 images/],
    ['echo', `git:load-image ${app} NOT_A_REF`, 2, /'NOT_A_REF' is not IMAGE:TAG/],
    ['echo', `git:load-image ${app} ../../etc:1`, 2, /is not IMAGE:TAG/],
  ] as const) {
    const r = await pipeToSsh(producer, command);
    assert.equal(r.exitCode, code, `${producer}: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal((await releases(app)).length, 1, 'no release was made');
    assert.equal(await body(app), `guarded-${run}\n`);
  }
  assert.equal(await images(), imagesBefore, 'the engine has no new image');
});

test('git:from-image deploys an image the engine has; a missing one that cannot be pulled is refused', async () => {
  const app = 'fromimg';
  assert.equal((await paas.ssh(`apps:create ${app}`)).exitCode, 0);
  const ref = `${imageName('f')}:2`;
  const id = await buildImage(ref, `from-image-${run}`);
  // ps:scale before the first deploy is kept by an image deploy too
  assert.equal((await paas.ssh(`ps:scale ${app} web=2`)).exitCode, 0);
  const r = await paas.ssh(`git:from-image ${app} ${ref}`);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Release v1 live/);
  const webs = await dockerClient().listContainers({ filters: { label: [`paas.app=${app}`, 'paas.process=web', runFilter(paas.labels)] } });
  assert.equal(webs.length, 2, 'web=2 set before the first deploy');
  assert.equal(await body(app), `from-image-${run}\n`);
  assert.equal((await releases(app))[0]!.sourceImage, id);

  const missing = await paas.ssh(`git:from-image ${app} 127.0.0.1:1/nothing/here:1`);
  assert.equal(missing.exitCode, 1, missing.stdout);
  assert.match(missing.stderr, /127\.0\.0\.1:1\/nothing\/here:1 is not on this host and cannot be pulled/);
  assert.equal((await releases(app)).length, 1);
  assert.equal(await body(app), `from-image-${run}\n`);
  // a developer key granted only this app cannot deploy another app's paas/<app>:vN image
  const dev = await makeKey(paas.keyDir, 'dev-images');
  const add = await paas.ssh(`ssh-keys:add dev-images --role developer --apps ${app}`, { input: fs.readFileSync(dev.pub, 'utf8') });
  assert.equal(add.exitCode, 0, add.stderr);
  const other = await paas.ssh(`git:from-image ${app} paas/loaded:v1`, { key: dev.priv });
  assert.equal(other.exitCode, 1, other.stdout);
  assert.match(other.stderr, /paas\/loaded:v1 is an image of app 'loaded'; a developer key deploys only its own apps' images/);
  const notGranted = await paas.ssh(`git:from-image loaded ${ref}`, { key: dev.priv });
  assert.match(notGranted.stderr, /has no access to app 'loaded'/);
  assert.equal((await releases(app)).length, 1);
  const bad = await paas.ssh(`git:from-image ${app} 'UPPER:1'`);
  assert.equal(bad.exitCode, 2);
  const rebuild = await paas.ssh(`ps:rebuild ${app}`);
  assert.equal(rebuild.exitCode, 1);
  assert.match(rebuild.stderr, /has no pushed main \(or master\) branch to rebuild/);
});

test('ps:rebuild builds the pushed commit again and deploys it as a new release', async () => {
  const app = 'rebuilt';
  const dir = path.join(paas.dataDir, 'work', app);
  const sha = await commitFiles(dir, busyboxApp('rebuild-me', { 'app.json': healthAppJson() }));
  const p = await push(paas, dir, app);
  assert.equal(p.exitCode, 0, p.output);
  assert.equal((await paas.ssh(`config:set ${app} GREETING=hi`)).exitCode, 0);
  const r = await paas.ssh(`ps:rebuild ${app}`);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Building paas\/rebuilt:v3/);
  assert.match(r.stdout, /Release v3 live/);
  const [v3] = await releases(app);
  assert.deepEqual([v3!.version, v3!.status, v3!.commit, v3!.sourceImage], [3, 'live', sha, null]);
  assert.equal(await body(app), 'rebuild-me\n');
  assert.match((await viaProxy(paas, `${app}.paas.test`, '/cgi-bin/env')).body, /^GREETING=hi$/m);
});
