// Issue 21 hole 9, driven as users and an attacker would: an admin sets the host's upload caps
// (`builder:set --global max-push-size`, `max-image-size`) and free-disk floor (`min-free-disk`);
// a developer key's push or `git:load-image` over them is refused with one line and changes
// nothing (the ref does not move, no image is loaded, no app is created). Only an admin sets them,
// bad sizes are refused, and builder:report shows them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { commitFiles, push, remoteSha, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE } from '../helpers/base-images.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { type PaasServer, sshOptions } from '../helpers/paas-server.js';

const APP = 'caps';
let paas: PaasServer;
let dir: string;
let dev: { priv: string; pub: string };
const run = randomBytes(3).toString('hex');

before(async () => {
  ({ paas, dir } = await serverWithApp(APP, 'caps-v1'));
  dev = await paas.addDeveloper('dev', [APP]);
});
after(async () => {
  await paas?.destroy();
});

const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });
const report = async () => JSON.parse((await paas.ssh(`builder:report ${APP} --json`)).stdout) as Record<string, unknown>;
const setGlobal = async (key: string, value: string) => {
  const r = await paas.ssh(`builder:set --global ${key} ${value}`);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout;
};
const body = async () => (await viaProxy(paas, `${APP}.paas.test`)).body;
const serving = async (expected = 'caps-v1\n') => assert.equal(await body(), expected);

async function pushAsDev(): Promise<{ exitCode: number; output: string }> {
  const r = await execa('git', ['-C', dir, 'push', paas.remoteUrl(APP), 'main'], {
    env: { GIT_SSH_COMMAND: `ssh ${sshOptions(dev.priv, paas.ports.ssh).join(' ')}` },
    reject: false,
    all: true,
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? 1, output: String(r.all) };
}

/** `<producer> | ssh paas@127.0.0.1 <command>` through a real shell pipe, as the developer key. */
async function pipeAsDev(producer: string, command: string) {
  const ssh = ['ssh', ...sshOptions(dev.priv, paas.ports.ssh), 'paas@127.0.0.1', command].map((w) => `'${w}'`).join(' ');
  const r = await execa('bash', ['-c', `${producer} | ${ssh}`], { reject: false, timeout: 120_000 });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A `docker save` tar of a fresh image with `mib` MiB of random data, the image then removed from the engine. */
async function savedImage(mib: number): Promise<{ ref: string; id: string; tar: string }> {
  const ref = `paas-e2e-caps-${run}:${mib}`;
  const labels = Object.entries(paas.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  await execa('docker', ['build', '-q', '-t', ref, ...labels, '-'], {
    input: `FROM ${BUSYBOX_IMAGE}\nRUN head -c ${mib}m /dev/urandom > /blob\nCMD exec httpd -f -p $PORT -h /\n`,
  });
  const id = (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
  const tar = path.join(paas.dataDir, `image-${mib}.tar`);
  await execa('docker', ['save', '-o', tar, ref]);
  await execa('docker', ['rmi', ref]);
  return { ref, id, tar };
}
const imageExists = async (id: string) => (await execa('docker', ['image', 'inspect', id], { reject: false })).exitCode === 0;

test('builder:report shows the caps and floor, with their defaults', async () => {
  const r = await report();
  assert.equal(r.maxPushSize, '1g');
  assert.equal(r.maxImageSize, '10g');
  assert.equal(r.minFreeDisk, '1g');
  assert.equal(r.buildTimeout, '30m');
  const text = (await paas.ssh(`builder:report ${APP}`)).stdout;
  assert.match(text, /Max push size:\s+1g\n/);
  assert.match(text, /Max image size:\s+10g\n/);
  assert.match(text, /Min free disk:\s+1g\n/);
  assert.match(text, /Build timeout:\s+30m\n/);
});

test('a developer key cannot set them; bad values are refused with one line and change nothing', async () => {
  const unchanged = await report();
  for (const args of ['max-push-size 10g', 'max-image-size none', 'min-free-disk 0', 'build-timeout 24h']) {
    const r = await asDev(`builder:set --global ${args}`);
    assert.equal(r.exitCode, 1, args);
    assert.equal(r.stderr, "error: 'builder:set' needs an admin key\n", args);
  }
  for (const [args, why] of [
    [
      'max-push-size 12x',
      /^error: max-push-size must be a size with a unit k, m or g from 1k to 1024g .*got '12x'; nothing was changed\n$/,
    ],
    ['max-image-size 2tb', /^error: max-image-size must be a size .*got '2tb'/],
    ['min-free-disk 5000g', /^error: min-free-disk must be a size .*got '5000g'/],
    ['build-timeout forever', /^error: build-timeout must be a duration from 1s to 24h .*got 'forever'; nothing was changed\n$/],
    ['build-timeout 0s', /^error: build-timeout must be a duration/],
    ['max-push-size', /^error: give a value: builder:set --global max-push-size VALUE\n$/],
  ] as const) {
    const r = await paas.ssh(`builder:set --global ${args}`);
    assert.equal(r.exitCode, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr, why, args);
  }
  assert.deepEqual(await report(), unchanged);
});

test('a push over max-push-size is refused by git before the hook: the ref does not move, nothing is built', async () => {
  assert.equal(await setGlobal('max-push-size', '1m'), 'Builds on this host: max-push-size 1m\n');
  const before = await remoteSha(paas, APP);
  // 3 MiB that does not compress
  await commitFiles(dir, { 'blob.bin': randomBytes(3 * 1024 * 1024).toString('base64') }, 'big');
  const r = await pushAsDev();
  assert.notEqual(r.exitCode, 0, r.output);
  assert.match(r.output, /remote: fatal: pack exceeds maximum allowed size/);
  assert.doesNotMatch(r.output, /Building/);
  assert.equal(await remoteSha(paas, APP), before, 'the ref did not move');
  await serving();
  // under the cap the same push goes through
  assert.equal(await setGlobal('max-push-size', '1g'), 'Builds on this host: max-push-size 1g\n');
  const ok = await pushAsDev();
  assert.equal(ok.exitCode, 0, ok.output);
});

test('git:load-image over max-image-size is cut with one line and nothing is loaded', async () => {
  assert.equal(await setGlobal('max-image-size', '1m'), 'Builds on this host: max-image-size 1m\n');
  const img = await savedImage(3);
  const r = await pipeAsDev(`cat ${img.tar}`, `git:load-image ${APP} ${img.ref}`);
  assert.equal(r.exitCode, 1, r.stderr);
  assert.equal(r.stderr, 'error: the upload is larger than the cap of 1m (builder:set --global max-image-size); nothing was loaded');
  assert.equal(await imageExists(img.id), false, 'the engine loaded nothing');
  await serving();
  // an upload that ends inside a layer is refused the same way, and the control plane lives on
  assert.equal(await setGlobal('max-image-size', '10g'), 'Builds on this host: max-image-size 10g\n');
  const cut = await pipeAsDev(`head -c 2000000 ${img.tar}`, `git:load-image ${APP} ${img.ref}`);
  assert.equal(cut.exitCode, 2, cut.stderr);
  assert.match(cut.stderr, /^error: the input is not a docker save tar \(.*\)$/);
  assert.equal(await imageExists(img.id), false);
  assert.equal((await paas.ssh('version')).exitCode, 0, 'the server still answers');
  assert.equal(await setGlobal('max-image-size', 'none'), 'Builds on this host: max-image-size none\n');
  assert.equal((await report()).maxImageSize, 'none');
  const ok = await pipeAsDev(`cat ${img.tar}`, `git:load-image ${APP} ${img.ref}`);
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(await imageExists(img.id), true);
  assert.equal(await setGlobal('max-image-size', '10g'), 'Builds on this host: max-image-size 10g\n');
});

test('below min-free-disk a push, a new app and a load-image are refused with one line before anything is written', async () => {
  assert.equal(await setGlobal('min-free-disk', '1000g'), 'Builds on this host: min-free-disk 1000g\n');
  const before = await remoteSha(paas, APP);
  const live = await body();
  await commitFiles(dir, { 'note.txt': 'small\n' }, 'small');
  const p = await pushAsDev();
  assert.notEqual(p.exitCode, 0, p.output);
  const lines = p.output.split('\n').filter((l) => /min-free-disk/.test(l));
  assert.equal(lines.length, 1, p.output);
  assert.match(
    lines[0]!,
    /the push was refused: free disk on the data dir \(\S+\) is [\d.]+[kmg]b?, below the floor of 1000g \(builder:set --global min-free-disk\); nothing was written/,
  );
  assert.equal(await remoteSha(paas, APP), before);

  // a push that would create an app creates nothing
  const fresh = path.join(paas.dataDir, 'work', 'fresh');
  await commitFiles(fresh, { 'index.html': 'x\n' });
  const np = await push(paas, fresh, 'fresh');
  assert.notEqual(np.exitCode, 0, np.output);
  assert.match(np.output, /the push was refused: free disk/);
  assert.doesNotMatch((await paas.ssh('apps:list')).stdout, /fresh/);
  assert.equal(fs.existsSync(path.join(paas.dataDir, 'repos', 'fresh.git')), false);

  const img = await savedImage(1);
  const l = await pipeAsDev(`cat ${img.tar}`, `git:load-image ${APP} ${img.ref}`);
  assert.equal(l.exitCode, 1);
  assert.match(
    l.stderr,
    /^error: the upload was refused: free disk on the data dir \(\S+\) is \S+, below the floor of 1000g .*nothing was written$/,
  );
  assert.equal(await imageExists(img.id), false);

  // ps:rebuild (a build without a push) is refused the same way
  const rb = await asDev(`ps:rebuild ${APP}`);
  assert.equal(rb.exitCode, 1);
  assert.match(rb.stdout, /the build was refused: free disk on the data dir/);
  await serving(live);

  assert.equal(await setGlobal('min-free-disk', '1g'), 'Builds on this host: min-free-disk 1g\n');
  const ok = await pushAsDev();
  assert.equal(ok.exitCode, 0, ok.output);
});
