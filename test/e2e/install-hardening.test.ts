// install.sh, run for real (--no-start) from a checkout another user could write: it is copied
// to a root-owned PAAS_INSTALL_DIR/<version> first and built and linked from there, the original
// left unbuilt; a symlink leading out of the tree is not copied. An admin key file whose first
// keys carry options (from=, restrict): those are skipped with a warning, never registered
// without their options, and the first key without options is the admin. The proxy's user
// exists and may traverse the data dir.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, fingerprint, type InstallSandbox, makeSandbox, type InstallResult, runInstall } from '../helpers/install.js';

const isRoot = process.getuid?.() === 0;
const SKIP_MESSAGE = 'skipping a key with options (from=, command=, restrict): register it yourself with ssh-keys:add if you want it';

describe('install.sh hardening', { skip: isRoot ? false : 'needs root', timeout: 15 * 60_000 }, () => {
  let dir: string;
  let sb: InstallSandbox;
  let r: InstallResult;
  let keyFile: string;
  const keys: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'paas-install-hard-'));
    sb = await makeSandbox(dir);
    // another user could change this file, and so the code root would build and run
    chmodSync(path.join(sb.checkout, 'src', 'main.ts'), 0o666);
    symlinkSync('/etc/hostname', path.join(sb.checkout, 'outside-link'));
    for (const name of ['from', 'restrict', 'plain']) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@paas`, '-f', path.join(dir, name)]);
      keys[name] = readFileSync(path.join(dir, `${name}.pub`), 'utf8').trim();
    }
    keyFile = path.join(dir, 'authorized_keys');
    writeFileSync(
      keyFile,
      ['# keys', `from="10.0.0.1",no-pty ${keys.from}`, '', `restrict ${keys.restrict}`, `  ${keys.plain}`, ''].join('\n'),
    );
    r = runInstall(sb, ['--yes', '--no-start', '--data-dir', sb.dataDir, '--admin-key', keyFile]);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('install.sh succeeds', () => {
    assert.equal(r.status, 0, `install.sh failed:\n${r.stdout}\n${r.stderr}`);
  });

  test('a checkout another user can write is copied to a root-owned dir and built and run there', () => {
    const dest = path.join(sb.installDir, '0.1.0');
    assert.ok(r.stdout.includes(`not building in ${sb.checkout}: ${sb.checkout}/src/main.ts is owned by root with mode 666`), r.stdout);
    assert.ok(r.stdout.includes(`Copied ${sb.checkout} to ${dest} (root-owned) to build and run there`), r.stdout);
    assert.equal(readlinkSync(path.join(sb.binDir, 'paas')), path.join(dest, 'dist', 'src', 'main.js'));
    assert.ok(existsSync(path.join(dest, 'dist', 'src', 'main.js')), 'built in the copy');
    assert.ok(!existsSync(path.join(sb.checkout, 'dist')), 'nothing built in the checkout');
    assert.equal(statSync(path.join(dest, 'src', 'main.ts')).mode & 0o777, 0o644);
    const loose = execFileSync('find', [dest, '!', '-type', 'l', '(', '!', '-user', '0', '-o', '-perm', '/022', ')', '-print'], {
      encoding: 'utf8',
    });
    assert.equal(loose, '', 'every file of the copy is root-owned and writable by root alone');
    assert.ok(!existsSync(path.join(dest, '.git')), '.git is not copied');
    assert.throws(() => lstatSync(path.join(dest, 'outside-link')), /ENOENT/);
    assert.match(r.stderr, /warning: removing the symlink outside-link from the copy: it leads out of the tree \(\/etc\/hostname\)/);
    assert.equal(statSync(sb.installDir).uid, 0);
  });

  test('keys with options are skipped with the message and the first key without options is the admin', () => {
    const warnings = r.stderr.split('\n').filter((l) => l.includes('skipping a key'));
    assert.deepEqual(warnings, [`    warning: ${SKIP_MESSAGE} (${keyFile} line 2)`, `    warning: ${SKIP_MESSAGE} (${keyFile} line 4)`]);
    const listed = JSON.parse(
      execFileSync(path.join(sb.binDir, 'paas'), ['admin', 'ssh-keys:list', '--json'], {
        env: cleanEnv({ PAAS_DATA_DIR: sb.dataDir }),
        encoding: 'utf8',
      }),
    ).map((k: { name: string; role: string; fingerprint: string }) => [k.name, k.role, k.fingerprint]);
    assert.deepEqual(listed, [['plain@paas', 'admin', fingerprint(path.join(dir, 'plain.pub'))]]);
    assert.match(r.stdout, /Registered admin key 'plain@paas'/);
  });

  test('the proxy user exists and the data dir is root:<its group> 0710', () => {
    const [, , uid, gid] = execFileSync('getent', ['passwd', 'paas-proxy'], { encoding: 'utf8' }).trim().split(':');
    assert.notEqual(Number(uid), 0);
    const st = statSync(sb.dataDir);
    assert.deepEqual([st.uid, st.gid, (st.mode & 0o7777).toString(8)], [0, Number(gid), '710']);
    assert.match(readFileSync(sb.envFile, 'utf8'), /^PAAS_PROXY_USER=paas-proxy$/m);
  });
});
