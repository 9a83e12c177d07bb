// install.sh, run for real twice against a temp data dir and free ports: the first run installs
// and starts paas, the second is an in-place upgrade that keeps the data dir, the host key, the
// admin key and the settings, keeps the proxy process serving, and changes nothing else.
// Unsupported systems and non-root users are refused with one clear line.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  cleanEnv,
  fingerprint,
  freePorts,
  type InstallSandbox,
  makeSandbox,
  pidAlive,
  REPO_ROOT,
  readPid,
  runInstall,
  stopPids,
} from '../helpers/install.js';

const STEP_LINE = /^==> .+ \(\d+\.\d s\)$/m;

describe('install.sh', () => {
  test('refuses an unsupported OS with one clear line and touches nothing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paas-install-os-'));
    try {
      const osRelease = path.join(dir, 'os-release');
      writeFileSync(osRelease, 'ID=ubuntu\nVERSION_ID="20.04"\nPRETTY_NAME="Ubuntu 20.04.6 LTS"\n');
      const dataDir = path.join(dir, 'data');
      const r = spawnSync('bash', [path.join(REPO_ROOT, 'install.sh'), '--yes', '--data-dir', dataDir], {
        env: cleanEnv({ PAAS_OS_RELEASE: osRelease, PAAS_ENV_FILE: path.join(dir, 'paas.env') }),
        encoding: 'utf8',
      });
      assert.equal(r.status, 3, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line, got:\n${r.stderr}`);
      assert.match(r.stderr, /unsupported system 'Ubuntu 20\.04\.6 LTS'.*Debian 12\+ or Ubuntu 22\.04\+/);
      assert.ok(!existsSync(dataDir), 'a refused install must not create the data dir');
      assert.ok(!existsSync(path.join(dir, 'paas.env')), 'a refused install must not write the env file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a non-root user with one clear line', () => {
    // As root, drop to `nobody`; the script goes in on stdin so nobody need not read the checkout.
    const script = readFileSync(path.join(REPO_ROOT, 'install.sh'));
    const bash = ['bash', '-s', '--', '--yes'];
    const [file, ...args] = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', ...bash] : bash;
    const r = spawnSync(file, args, { input: script, env: cleanEnv(), encoding: 'utf8' });
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line, got:\n${r.stderr}`);
    assert.match(r.stderr, /must run as root/);
  });

  describe('run twice', { timeout: 15 * 60_000 }, () => {
    let dir: string;
    let sb: InstallSandbox;
    let ports: number[];
    let adminPub: string;
    const pids: (number | undefined)[] = [];

    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'paas-install-'));
      sb = await makeSandbox(dir);
      ports = await freePorts(3);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'install-test@paas', '-f', path.join(dir, 'admin')]);
      adminPub = path.join(dir, 'admin.pub');
    });

    after(async () => {
      const run = path.join(sb?.dataDir ?? '/nonexistent', 'run');
      for (const f of ['control.pid', 'proxy.pid']) if (existsSync(path.join(run, f))) pids.push(readPid(path.join(run, f)));
      await stopPids(pids);
      rmSync(dir, { recursive: true, force: true });
    });

    const run = () => path.join(sb.dataDir, 'run');
    const hostKey = () => path.join(sb.dataDir, 'keys', 'ssh_host_ed25519_key');
    const sshArgs = (...cmd: string[]) => [
      ...['-i', path.join(dir, 'admin'), '-p', String(ports[0]), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'],
      ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'paas@127.0.0.1', ...cmd],
    ];
    const servedHostKey = () => {
      const scan = execFileSync('ssh-keyscan', ['-t', 'ed25519', '-p', String(ports[0]), '127.0.0.1'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return execFileSync('ssh-keygen', ['-lf', '-'], { input: scan, encoding: 'utf8' }).split(' ')[1];
    };
    /** [name, role, fingerprint] of every registered key, from the installed `paas admin`. */
    const adminKeys = (): string[][] =>
      JSON.parse(
        execFileSync(path.join(sb.binDir, 'paas'), ['admin', 'ssh-keys:list', '--json'], {
          env: cleanEnv({ PAAS_DATA_DIR: sb.dataDir }),
          encoding: 'utf8',
        }),
      ).map((k: { name: string; role: string; fingerprint: string }) => [k.name, k.role, k.fingerprint]);

    let first: {
      hostKey: Buffer;
      envFile: string;
      link: string;
      proxyPid: number | undefined;
      controlPid: number | undefined;
      entries: string[];
    };

    test('the first run installs, starts paas and prints the git and ssh lines', () => {
      const [ssh, http, https] = ports;
      const r = runInstall(sb, [
        ...['--yes', '--data-dir', sb.dataDir, '--listen', '127.0.0.1'],
        ...['--ssh-port', String(ssh), '--http-port', String(http), '--https-port', String(https)],
        ...['--admin-key', adminPub, '--domain', 'paas.test'],
      ]);
      assert.equal(r.status, 0, `install.sh failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, STEP_LINE);
      assert.match(r.stdout, /Install step timings/);
      assert.ok(r.stdout.includes(`git remote add paas ssh://paas@paas.test:${ssh}/myapp`), r.stdout);
      assert.ok(r.stdout.includes(`ssh -p ${ssh} paas@paas.test help`), r.stdout);
      assert.match(r.stdout, /Made SSH host key/);
      assert.match(r.stdout, /Registered admin key/);

      const portsJson = JSON.parse(readFileSync(path.join(run(), 'ports.json'), 'utf8'));
      assert.deepEqual(portsJson, { ssh, http, https });
      const controlPid = readPid(path.join(run(), 'control.pid'));
      const proxyPid = readPid(path.join(run(), 'proxy.pid'));
      pids.push(controlPid, proxyPid);
      assert.ok(pidAlive(controlPid) && pidAlive(proxyPid), 'control plane and proxy run in the background');

      assert.equal(servedHostKey(), fingerprint(hostKey()), 'the SSH server uses the installed host key');
      assert.deepEqual(adminKeys(), [['install-test@paas', 'admin', fingerprint(adminPub)]], 'the admin key, named after its comment');
      const version = spawnSync('ssh', sshArgs('version'), { encoding: 'utf8', timeout: 30_000 });
      assert.equal(version.status, 0, `ssh with the registered admin key failed: ${version.stderr}`);

      writeFileSync(path.join(sb.dataDir, 'marker.txt'), 'keep me\n');
      first = {
        hostKey: readFileSync(hostKey()),
        envFile: readFileSync(sb.envFile, 'utf8'),
        link: readlinkSync(path.join(sb.binDir, 'paas')),
        proxyPid,
        controlPid,
        entries: execFileSync('ls', ['-A', sb.dataDir], { encoding: 'utf8' }).split('\n').filter(Boolean),
      };
      assert.match(first.envFile, new RegExp(`^PAAS_SSH_PORT=${ssh}$`, 'm'));
    });

    test('the second run upgrades in place and keeps data, keys, settings and the proxy', () => {
      assert.ok(first, 'needs the first run');
      // No port flags: the settings come back from the env file the first run wrote.
      const r = runInstall(sb, ['--yes', '--admin-key', adminPub]);
      assert.equal(r.status, 0, `second install.sh failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /npm dependencies up to date/);
      assert.match(r.stdout, /SSH host key kept/);
      assert.match(r.stdout, /Settings unchanged/);
      assert.match(r.stdout, /already registered/);
      assert.match(r.stdout, /Upgraded paas/);
      assert.ok(r.stdout.includes(`git remote add paas ssh://paas@paas.test:${ports[0]}/myapp`), r.stdout);

      assert.equal(readFileSync(path.join(sb.dataDir, 'marker.txt'), 'utf8'), 'keep me\n', 'data dir kept');
      assert.ok(readFileSync(hostKey()).equals(first.hostKey), 'host key unchanged');
      assert.equal(readFileSync(sb.envFile, 'utf8'), first.envFile, 'env file unchanged');
      assert.equal(readlinkSync(path.join(sb.binDir, 'paas')), first.link, 'paas link unchanged');
      const entries = execFileSync('ls', ['-A', sb.dataDir], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const e of first.entries) assert.ok(entries.includes(e), `data dir entry ${e} kept`);

      const controlPid = readPid(path.join(run(), 'control.pid'));
      const proxyPid = readPid(path.join(run(), 'proxy.pid'));
      pids.push(controlPid, proxyPid);
      assert.notEqual(controlPid, first.controlPid, 'a new control plane runs');
      assert.ok(pidAlive(controlPid), 'the new control plane is alive');
      assert.ok(!pidAlive(first.controlPid), 'the old control plane has exited');
      assert.equal(proxyPid, first.proxyPid, 'the proxy process kept serving through the upgrade');
      assert.ok(pidAlive(proxyPid));

      assert.deepEqual(JSON.parse(readFileSync(path.join(run(), 'ports.json'), 'utf8')).ssh, ports[0]);
      assert.equal(servedHostKey(), fingerprint(hostKey()), 'same host key served after the upgrade');
      assert.deepEqual(adminKeys(), [['install-test@paas', 'admin', fingerprint(adminPub)]], 'the admin key is listed once');
      const version = spawnSync('ssh', sshArgs('version'), { encoding: 'utf8', timeout: 30_000 });
      assert.equal(version.status, 0, `ssh with the admin key after the upgrade failed: ${version.stderr}`);
    });
  });
});
