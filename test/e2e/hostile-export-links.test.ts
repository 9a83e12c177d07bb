// Issue 21, hole 1, driven as the attacker would: a developer key (granted one app) pushes commits
// whose Procfile, app.json, .dockerignore and Dockerfile.paas are symlinks through a chain of
// relative links that each look like they stay inside the tree (`zd/l0 -> ..`, `z01 -> zd/l0/..`,
// `z02 -> z01/..`, ...) but together climb to `/`, and a crafted tree (made with `git mktree`) whose
// directory entry lands on such a link. Each push fails with one line; no byte of the outside file
// reaches the push output or an image; nothing outside the tree is created or changed. A commit
// whose links stay inside the tree still deploys.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE } from '../helpers/base-images.js';
import { serverWithApp } from '../helpers/deployed-app.js';
import { type PaasServer, sshOptions } from '../helpers/paas-server.js';

const APP = 'shop';
/** letters g-v only, so no commit sha or other output can hold a piece of it by chance */
const MARKER = [...crypto.randomBytes(16)].map((b) => String.fromCharCode(103 + (b % 16))).join('');
/** whether any 6 letters of the marker in a row are in `text` (an error may quote only the start) */
const leaks = (text: string) => [...MARKER.slice(5)].some((_c, i) => text.includes(MARKER.slice(i, i + 6)));
/** hops of `zNN -> z(NN-1)/..`: each climbs one directory, more than any data dir is deep */
const HOPS = 24;

let paas: PaasServer;
let dir: string;
let base: string;
let dev: { priv: string; pub: string };
/** outside every tree: what the attacker wants to read or write */
let outside: string;
let secretFile: string;
let victimFile: string;
let victimDir: string;

before(async () => {
  ({ paas, dir } = await serverWithApp(APP, 'shop-v1', { PAAS_IMAGE_STATIC: BUSYBOX_IMAGE }));
  dev = await paas.addDeveloper('dev', [APP]);
  base = (await execa('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();

  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-h1-outside-'));
  secretFile = path.join(outside, 'secret.txt');
  // parses neither as a Procfile line nor as JSON: the old code printed it back in the error
  fs.writeFileSync(secretFile, `${MARKER} root-only secret\npassword=${MARKER}\n`, { mode: 0o600 });
  victimFile = path.join(outside, 'victim.conf');
  fs.writeFileSync(victimFile, 'victim-original\n', { mode: 0o644 });
  victimDir = path.join(outside, 'victim-dir');
  fs.mkdirSync(victimDir, { mode: 0o700 });
  fs.chmodSync(victimDir, 0o700);
  fs.utimesSync(victimDir, new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'));
});

after(async () => {
  await paas?.destroy();
  if (outside) fs.rmSync(outside, { recursive: true, force: true });
});

/** Everything under `outside`: names, kinds, modes, owners, mtimes, contents. */
function snapshotOutside(): string {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    const content = st.isFile() ? fs.readFileSync(p, 'base64') : st.isSymbolicLink() ? fs.readlinkSync(p) : '';
    out.push(`${path.relative(outside, p)} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${content}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  };
  walk(outside);
  return out.join('\n');
}

async function appImages(): Promise<string[]> {
  const r = await execa('docker', ['image', 'ls', `paas/${APP}`, '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** Whether the marker is anywhere in an image's layers (docker save is uncompressed tar). */
async function imageHolds(image: string, needle: string): Promise<boolean> {
  const r = await execa('docker', ['save', image], { encoding: 'buffer', maxBuffer: 1 << 30 });
  return Buffer.from(r.stdout).includes(needle);
}

/** `zd/l0 -> ..`, `z01 -> zd/l0/..`, `zNN -> z(NN-1)/..`: each looks inside, z<HOPS> is the host's `/`. */
function chain(): Record<string, string> {
  const links: Record<string, string> = { 'zd/l0': '..', z01: 'zd/l0/..' };
  for (let i = 2; i <= HOPS; i++) links[`z${String(i).padStart(2, '0')}`] = `z${String(i - 1).padStart(2, '0')}/..`;
  return links;
}
/** a link target through the chain to the absolute `target` on the host */
const viaChain = (target: string) => `z${HOPS}${target}`;

/** A commit on the deployed base with `files` and `links` (real symlinks, committed by real git). */
async function commitWithLinks(files: Record<string, string>, links: Record<string, string>): Promise<string> {
  await execa('git', ['-C', dir, 'reset', '-q', '--hard', base]);
  for (const f of fs.readdirSync(dir)) if (f !== '.git') fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  for (const [name, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, name));
  }
  return commitFiles(dir, files, 'hostile');
}

/** `git push --force` of `rev` to main as the developer key, over the real OpenSSH client. */
async function pushAsDev(rev: string): Promise<{ exitCode: number; output: string }> {
  const r = await execa('git', ['-C', dir, 'push', '--force', paas.remoteUrl(APP), `${rev}:refs/heads/main`], {
    env: { GIT_SSH_COMMAND: `ssh ${sshOptions(dev.priv, paas.ports.ssh).join(' ')}` },
    reject: false,
    all: true,
    timeout: 600_000,
  });
  return { exitCode: r.exitCode ?? 1, output: String(r.all) };
}

/**
 * Pushes `rev` as the developer and checks the attack got nothing: the push is refused with one
 * line matching `refusal`, the marker is in neither the output nor any new image of the app, no
 * image was built, nothing outside changed, and the live release keeps serving.
 */
async function assertRefused(rev: string, refusal: RegExp): Promise<void> {
  const imagesBefore = await appImages();
  const outsideBefore = snapshotOutside();
  const servedBefore = (await viaProxy(paas, `${APP}.paas.test`)).body;
  const r = await pushAsDev(rev);
  const imagesAfter = await appImages();
  for (const line of imagesAfter.filter((i) => !imagesBefore.includes(i))) {
    const image = line.split(' ')[0];
    assert.equal(await imageHolds(image, MARKER), false, `the outside file's bytes are in image ${image}`);
  }
  assert.equal(leaks(r.output), false, `the outside file leaked into the push output:\n${r.output}`);
  assert.equal(snapshotOutside(), outsideBefore, 'a file outside the tree was created or changed');
  assert.notEqual(r.exitCode, 0, `the push was accepted:\n${r.output}`);
  const refusals = r.output.split('\n').filter((l) => refusal.test(l.trimEnd()));
  assert.equal(refusals.length, 1, `one refusal line expected:\n${r.output}`);
  assert.match(r.output, /v\d+ keeps serving; the push is rejected/);
  assert.deepEqual(imagesAfter, imagesBefore, 'no image was built');
  assert.equal((await viaProxy(paas, `${APP}.paas.test`)).body, servedBefore);
}

const refusedLink = (name: string) =>
  new RegExp(`export failed: symlink '${name.replace(/\./g, '\\.')}' leads outside the repository; the commit is refused$`);

test('a Procfile that is a link through a climbing chain is refused; the secret is not printed', async () => {
  const rev = await commitWithLinks(busyboxApp('never'), { ...chain(), Procfile: viaChain(secretFile) });
  await assertRefused(rev, refusedLink('Procfile'));
});

test('an app.json that is a link through a climbing chain is refused; the secret is not printed', async () => {
  const rev = await commitWithLinks(busyboxApp('never'), { ...chain(), 'app.json': viaChain(secretFile) });
  await assertRefused(rev, refusedLink('app.json'));
});

test('a .dockerignore that is a link through a climbing chain is refused; no image carries the secret', async () => {
  // no Dockerfile: the template builder (static stack) would send .dockerignore's text in the context
  const rev = await commitWithLinks({ 'index.html': 'never\n' }, { ...chain(), '.dockerignore': viaChain(secretFile) });
  await assertRefused(rev, refusedLink('.dockerignore'));
});

test('a Dockerfile.paas that is a link through a climbing chain is refused; the file outside is not written', async () => {
  const rev = await commitWithLinks({ 'index.html': 'never\n' }, { ...chain(), 'Dockerfile.paas': viaChain(victimFile) });
  await assertRefused(rev, refusedLink('Dockerfile.paas'));
  assert.equal(fs.readFileSync(victimFile, 'utf8'), 'victim-original\n');
});

test('a crafted tree whose directory entry lands on a climbing link cannot touch the directory outside', async () => {
  // git mktree takes what `git add` never makes: a symlink `s` and a directory `s` in one tree.
  // Unpacked in order, `s` (a link through the chain `s-NN`) lands on victim-dir; the directory
  // entry `s/` then chowned and chmodded what `s` led to.
  await execa('git', ['-C', dir, 'reset', '-q', '--hard', base]);
  const git = (args: string[], input?: string) => execa('git', ['-C', dir, ...args], { input }).then((r) => r.stdout.trim());
  const blob = (text: string) => git(['hash-object', '-w', '--stdin'], text);
  const entry = async (mode: string, name: string, text: string) => `${mode} blob ${await blob(text)}\t${name}`;
  const sd = await git(['mktree'], `${await entry('120000', 'l0', '..')}\n`);
  const sub = await git(['mktree'], `${await entry('100644', 'x', 'x\n')}\n`);
  const rows = [await entry('120000', 's', `s-${HOPS}${victimDir}`), await entry('120000', 's-01', 's-d/l0/..')];
  for (let i = 2; i <= HOPS; i++)
    rows.push(await entry('120000', `s-${String(i).padStart(2, '0')}`, `s-${String(i - 1).padStart(2, '0')}/..`));
  rows.push(`040000 tree ${sd}\ts-d`, `040000 tree ${sub}\ts`);
  for (const [name, text] of Object.entries(busyboxApp('never'))) if (!name.includes('/')) rows.push(await entry('100644', name, text));
  const tree = await git(['mktree'], `${rows.join('\n')}\n`);
  const rev = await git(['commit-tree', tree, '-p', base, '-m', 'crafted']);
  await assertRefused(
    rev,
    /export failed: could not export commit [0-9a-f]{7}: the tree holds 's' twice, which git itself never writes; refused$/,
  );
  const st = fs.statSync(victimDir);
  assert.equal(st.mode & 0o777, 0o700);
  assert.equal(st.mtime.toISOString(), '2001-01-01T00:00:00.000Z');
});

test('paas reads its own files only as regular files: a Procfile linked inside the tree is refused with one line', async () => {
  const rev = await commitWithLinks(
    { ...busyboxApp('never'), 'Procfile.real': 'web: httpd -f -p $PORT -h /www\n' },
    { Procfile: 'Procfile.real' },
  );
  await assertRefused(
    rev,
    /export failed: Procfile is a symlink in the repository; paas reads it only as a regular file: commit the file itself$/,
  );
});

test('links that stay inside the tree still deploy: a link to a dir, a chain back to the root, a dangling one', async () => {
  const rev = await commitWithLinks(
    { ...busyboxApp('shop-v2'), 'public/index.html': 'public\n' },
    { static: 'public', 'zd/l0': '..', z01: 'zd/l0/www', 'zd/up': 'l0/zd', dangling: 'not/here' },
  );
  const r = await pushAsDev(rev);
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await viaProxy(paas, `${APP}.paas.test`)).body, 'shop-v2\n');
});
