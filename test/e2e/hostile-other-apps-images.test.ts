// Issue 21, hole 3, driven as the attacker would: a developer key granted one app (`mine`) tries to
// reach another app's image (`victim`, a secret baked in) through every spelling git:from-image and
// git:load-image take, and through a Dockerfile that builds FROM it, COPY --from it, names it
// through an ARG or a build arg, or inherits an ONBUILD trigger that copies from it. Each is refused
// with one line, no release is made, no build step runs and no byte of the secret comes out. An
// admin can still use every spelling; the developer keeps its own images and base images.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { requireDocker } from '../helpers/docker.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';

const run = randomBytes(3).toString('hex');
// image tags are the engine's, shared with other tests running at the same time: names of this run only
const VICTIM = `victim-${run}`;
const MINE = `mine-${run}`;
const SECRET = `top-secret-${randomBytes(8).toString('hex')}`;
const TRAP = `paas-e2e-trap-${run}:1`;

let paas: PaasServer;
let dev: { priv: string; pub: string };
let victimId: string;

const imageId = async (ref: string) => (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
const asDev = (cmd: string) => paas.ssh(cmd, { key: dev.priv });
const releases = async (app: string) =>
  JSON.parse((await paas.ssh(`releases ${app} --json -n 1000`)).stdout) as { version: number; status: string }[];
const liveVersion = async (app: string) => (await releases(app)).find((r) => r.status === 'live')?.version;
const body = async (app: string) => (await viaProxy(paas, `${app}.paas.test`)).body;

/** `docker build` as an operator on the host would, labelled so the server's cleanup removes it. */
async function operatorBuild(tag: string, dockerfile: string): Promise<void> {
  const labels = Object.entries(paas.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  await execa('docker', ['build', '-q', '-t', tag, ...labels, '-'], { input: dockerfile, env: { DOCKER_BUILDKIT: '0' } });
}

/** A push to `mine` as the developer key; the work tree is fresh each time, so each push is one Dockerfile. */
async function devPush(name: string, files: Record<string, string>) {
  const dir = path.join(paas.dataDir, 'work', `dev-${name}`);
  await commitFiles(dir, { 'app.json': healthAppJson(), ...files });
  const r = await execa('git', ['-C', dir, 'push', '--force', paas.remoteUrl(MINE), 'main'], {
    env: { GIT_SSH_COMMAND: `ssh ${sshOptions(dev.priv, paas.ports.ssh).join(' ')}` },
    reject: false,
    all: true,
    timeout: 300_000,
  });
  return { exitCode: r.exitCode ?? 1, output: String(r.all) };
}

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  const victimDir = path.join(paas.dataDir, 'work', VICTIM);
  await commitFiles(
    victimDir,
    busyboxApp('victim-v1', {
      Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY secret /secret\nCOPY www /www\nRUN chmod +x /www/cgi-bin/env\nCMD httpd -f -p $PORT -h /www\n`,
      secret: `${SECRET}\n`,
      'app.json': healthAppJson(),
    }),
  );
  const v = await push(paas, victimDir, VICTIM);
  assert.equal(v.exitCode, 0, v.output);
  const mineDir = path.join(paas.dataDir, 'work', MINE);
  await commitFiles(mineDir, busyboxApp('mine-v1', { 'app.json': healthAppJson() }));
  const m = await push(paas, mineDir, MINE);
  assert.equal(m.exitCode, 0, m.output);
  victimId = await imageId(`paas/${VICTIM}:v1`);
  dev = await paas.addDeveloper('dev', [MINE]);
  // a base image an operator loaded, with a trigger that copies from the victim's image when built FROM
  await operatorBuild(TRAP, `FROM ${BUSYBOX_IMAGE}\nONBUILD COPY --from=paas/${VICTIM}:v1 /secret /stolen\n`);
});

after(async () => {
  await paas?.destroy();
});

describe('a developer key granted only its app', () => {
  test('git:from-image: every spelling of another app image is refused with one line, nothing deployed', async () => {
    const before = await releases(MINE);
    const short = victimId.slice('sha256:'.length, 'sha256:'.length + 12);
    const cases: Array<[string, number, RegExp]> = [
      [`paas/${VICTIM}:v1`, 1, new RegExp(`paas/${VICTIM}:v1 is an image of app '${VICTIM}'`)],
      [`docker.io/paas/${VICTIM}:v1`, 1, new RegExp(`docker\\.io/paas/${VICTIM}:v1 is an image of app '${VICTIM}'`)],
      [`index.docker.io/paas/${VICTIM}:v1`, 1, new RegExp(`is an image of app '${VICTIM}'`)],
      [victimId, 1, new RegExp(`${victimId} is an image of app '${VICTIM}'`)],
      [`sha256:${short}`, 1, new RegExp(`sha256:${short} is an image of app '${VICTIM}'`)],
      // not IMAGE:TAG: usage errors (exit 2), as before
      [short, 2, /is not IMAGE:TAG/],
      [`paas/${VICTIM}@${victimId}`, 2, /is not IMAGE:TAG/],
    ];
    for (const [ref, exit, why] of cases) {
      const r = await asDev(`git:from-image ${MINE} ${ref}`);
      assert.equal(r.exitCode, exit, `${ref}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr, why, ref);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
    }
    assert.deepEqual(await releases(MINE), before, 'no release was made');
    assert.equal(await body(MINE), 'mine-v1\n');
  });

  test('git:load-image: a tar that is another app image is refused after the upload, by id; the image stays its owner', async () => {
    const before = await releases(MINE);
    // the spelling alone is refused before anything is read
    const named = await execa('bash', [
      '-o',
      'pipefail',
      '-c',
      `docker save paas/${VICTIM}:v1 | ssh ${sshOptions(dev.priv, paas.ports.ssh).join(' ')} paas@127.0.0.1 git:load-image ${MINE} paas/${VICTIM}:v1`,
    ]).catch((e: { exitCode?: number; stderr?: string }) => e);
    assert.equal(named.exitCode, 1);
    assert.match(String(named.stderr), new RegExp(`paas/${VICTIM}:v1 is an image of app '${VICTIM}'`));
    // the same image under a name of the uploader's choosing: judged by the id it loads as
    const tar = path.join(paas.dataDir, 'loot.tar');
    const loot = `paas-e2e-loot-${run}:1`;
    await execa('docker', ['tag', victimId, loot]);
    await execa('docker', ['save', '-o', tar, loot]);
    await execa('docker', ['rmi', loot]);
    const r = await execa('bash', [
      '-c',
      `ssh ${sshOptions(dev.priv, paas.ports.ssh).join(' ')} paas@127.0.0.1 git:load-image ${MINE} ${loot} < ${tar}`,
    ]).catch((e: { exitCode?: number; stderr?: string; stdout?: string }) => e);
    assert.equal(r.exitCode, 1, String(r.stdout));
    assert.match(String(r.stderr), new RegExp(`^error: ${loot.replace(/[.:]/g, '\\$&')} is an image of app '${VICTIM}'`));
    assert.equal(String(r.stderr).trim().split('\n').length, 1, String(r.stderr));
    assert.deepEqual(await releases(MINE), before, 'no release was made');
    assert.equal(await imageId(`paas/${VICTIM}:v1`), victimId, "the victim's image is untouched");
    assert.equal(await body(MINE), 'mine-v1\n');
  });

  test('a push whose Dockerfile reaches another app image is refused with one line naming it, before any step runs', async () => {
    const live = await liveVersion(MINE);
    const victim = `paas/${VICTIM}:v1`;
    const tail = `COPY www /www\nCMD httpd -f -p $PORT -h /www\n`;
    const www = { 'www/index.html': 'stolen\n' };
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'from',
        { Dockerfile: `FROM ${victim}\n${tail}`, ...www },
        new RegExp(`line 1: FROM ${victim}: ${victim} is an image of app '${VICTIM}'`),
      ],
      [
        'copy-from',
        { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY --from=${victim} /secret /x\n${tail}`, ...www },
        new RegExp(`line 2: COPY --from=${victim} /secret /x: ${victim} is an image of app '${VICTIM}'`),
      ],
      [
        'arg',
        { Dockerfile: `ARG B=${victim}\nFROM $B\n${tail}`, ...www },
        new RegExp(`line 2: FROM \\$B: ${victim} is an image of app '${VICTIM}'`),
      ],
      [
        'docker-io-and-continuation',
        { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY \\\n# hidden\n  --from="docker.io/${victim}" \\\n\n  /secret /x\n${tail}`, ...www },
        new RegExp(`line 2: COPY --from="docker\\.io/${victim}" /secret /x: docker\\.io/${victim} is an image of app '${VICTIM}'`),
      ],
      ['by-id', { Dockerfile: `FROM ${victimId}\n${tail}`, ...www }, new RegExp(`${victimId} is an image of app '${VICTIM}'`)],
      [
        'short-id',
        { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY --from=${victimId.slice(7, 13)} /secret /x\n${tail}`, ...www },
        /may be a short image id/,
      ],
      [
        'onbuild',
        { Dockerfile: `FROM ${TRAP}\n${tail}`, ...www },
        new RegExp(`line 1: FROM ${TRAP} \\(ONBUILD COPY --from=${victim} /secret /stolen\\): ${victim} is an image of app '${VICTIM}'`),
      ],
    ];
    for (const [name, files, why] of cases) {
      const r = await devPush(name, files);
      assert.notEqual(r.exitCode, 0, `${name}: ${r.output}`);
      const refusals = r.output
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => /^remote: +! +build failed: Dockerfile /.test(l));
      assert.equal(refusals.length, 1, `${name}: ${r.output}`);
      assert.match(refusals[0]!, why, name);
      assert.match(refusals[0]!, /a developer key builds only from its own app's images and base images$/);
      assert.doesNotMatch(r.output, /Step \d+\/\d+/, `${name}: no build step ran`);
      assert.doesNotMatch(r.output, new RegExp(SECRET));
      assert.equal(await liveVersion(MINE), live, `${name}: no new release went live`);
    }
    assert.equal(await body(MINE), 'mine-v1\n');
  });

  test('a build arg cannot turn FROM into another app image either', async () => {
    const live = await liveVersion(MINE);
    const set = await asDev(`builder:build-args ${MINE} BASE=paas/${VICTIM}:v1`);
    assert.equal(set.exitCode, 0, set.stderr);
    try {
      const r = await devPush('build-arg', { Dockerfile: `ARG BASE=${BUSYBOX_IMAGE}\nFROM \${BASE}\nCMD httpd -f -p $PORT -h /\n` });
      assert.notEqual(r.exitCode, 0, r.output);
      assert.match(r.output, new RegExp(`line 2: FROM \\$\\{BASE\\}: paas/${VICTIM}:v1 is an image of app '${VICTIM}'`));
      assert.doesNotMatch(r.output, /Step \d+\/\d+/);
      assert.equal(await liveVersion(MINE), live);
    } finally {
      assert.equal((await asDev(`builder:build-args ${MINE} BASE=`)).exitCode, 0);
    }
  });

  test('still deploys its own app image and builds from a base image no app owns, or from its own image', async () => {
    const own = await asDev(`git:from-image ${MINE} paas/${MINE}:v1`);
    assert.equal(own.exitCode, 0, own.stderr + own.stdout);
    assert.equal(await body(MINE), 'mine-v1\n');
    const base = await devPush('base', busyboxApp('mine-from-base'));
    assert.equal(base.exitCode, 0, base.output);
    assert.equal(await body(MINE), 'mine-from-base\n');
    const v = await liveVersion(MINE);
    const fromOwn = await devPush('own', {
      Dockerfile: `FROM paas/${MINE}:v${v}\nRUN echo mine-from-own > /www/index.html\n`,
    });
    assert.equal(fromOwn.exitCode, 0, fromOwn.output);
    assert.equal(await body(MINE), 'mine-from-own\n');
  });
});

describe('an admin key', () => {
  test('still deploys another app image by any spelling and builds FROM it', async () => {
    const spellings = [`paas/${VICTIM}:v1`, `docker.io/paas/${VICTIM}:v1`, victimId];
    for (const ref of spellings) {
      const r = await paas.ssh(`git:from-image ${MINE} ${ref}`);
      assert.equal(r.exitCode, 0, `${ref}: ${r.stderr}${r.stdout}`);
      assert.equal(await body(MINE), 'victim-v1\n');
    }
    const dir = path.join(paas.dataDir, 'work', 'admin-from');
    await commitFiles(dir, {
      Dockerfile: `FROM paas/${VICTIM}:v1\nRUN echo "admin-$(cat /secret)" > /www/index.html\n`,
      'app.json': healthAppJson(),
    });
    const r = await push(paas, dir, MINE, 'main', ['--force']);
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(await body(MINE), `admin-${SECRET}\n`);
  });

  test('ps:rebuild judges the build by the key that runs it: an admin-pushed FROM another app fails for a developer', async () => {
    const app = `third-${run}`;
    const dir = path.join(paas.dataDir, 'work', app);
    await commitFiles(dir, {
      Dockerfile: `FROM paas/${VICTIM}:v1\nRUN echo third > /www/index.html\n`,
      'app.json': healthAppJson(),
    });
    const pushed = await push(paas, dir, app);
    assert.equal(pushed.exitCode, 0, pushed.output);
    assert.equal((await paas.ssh(`ssh-keys:grant dev ${app}`)).exitCode, 0);
    const live = await liveVersion(app);
    const r = await asDev(`ps:rebuild ${app}`);
    assert.notEqual(r.exitCode, 0, r.stdout);
    assert.match(r.stdout + r.stderr, new RegExp(`FROM paas/${VICTIM}:v1: paas/${VICTIM}:v1 is an image of apps '${MINE}', '${VICTIM}'`));
    assert.doesNotMatch(r.stdout + r.stderr, /Step \d+\/\d+/);
    assert.equal(await liveVersion(app), live);
    const byAdmin = await paas.ssh(`ps:rebuild ${app}`);
    assert.equal(byAdmin.exitCode, 0, byAdmin.stderr + byAdmin.stdout);
    assert.equal(await body(app), 'third\n');
  });
});
