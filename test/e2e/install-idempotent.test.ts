// install.sh, run for real twice against a temp data dir and free ports: the first run installs
// and starts paas, the second is an in-place upgrade that keeps the data dir, the host key, the
// admin key and the settings, hands the proxy's sockets to a proxy of the new build while a load
// loop runs through it (no failed request), and changes nothing else.
// Unsupported systems and non-root users are refused with one clear line.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProxyClient } from '../../src/proxy/control/proxy-client.js';
import { startUpstream } from '../proxy/helpers/upstream.js';
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
  runInstallAsync,
  stopPids,
} from '../helpers/install.js';
import { NO_KNOWN_HOSTS } from '../helpers/paas-server.js';

const STEP_LINE = /^==> .+ \(\d+\.\d s\)$/m;

/** GETs through the proxy in a loop, each on a fresh connection, until stopped. */
function loadLoop(port: number, host: string) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/load', headers: { host }, agent: false, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`status ${res.statusCode}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        failures.push(e.message);
        resolve();
      });
    });
  const loops = Array.from({ length: 2 }, async () => {
    while (!stop) {
      await one();
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    stop: async () => {
      stop = true;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

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
      ...['-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${NO_KNOWN_HOSTS}`, '-o', 'LogLevel=ERROR', 'paas@127.0.0.1', ...cmd],
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

    test('the second run upgrades in place, keeps data, keys and settings, and hands the proxy over under load', async () => {
      assert.ok(first, 'needs the first run');
      // a route straight to an upstream in this process, and a load loop through the proxy during the upgrade
      const upstream = await startUpstream('install-load');
      const proxy = new ProxyClient(path.join(run(), 'proxy.sock'));
      await proxy.deploy('loadsvc', {
        hosts: ['load.test'],
        targets: [upstream.address],
        healthCheck: { path: '/up', intervalMs: 50, timeoutMs: 500 },
      });
      const before = await proxy.status();
      const load = loadLoop(ports[1], 'load.test');
      // No port flags: the settings come back from the env file the first run wrote.
      const r = await runInstallAsync(sb, ['--yes', '--admin-key', adminPub]);
      const loaded = await load.stop();
      await upstream.close();
      assert.equal(r.status, 0, `second install.sh failed:\n${r.stdout}\n${r.stderr}`);
      assert.deepEqual(
        loaded.failures.slice(0, 5),
        [],
        `${loaded.failures.length} of ${loaded.ok + loaded.failures.length} requests failed during the upgrade`,
      );
      assert.ok(loaded.ok > 50, `only ${loaded.ok} requests during the upgrade`);
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
      assert.notEqual(proxyPid, first.proxyPid, 'a proxy of the new build took the sockets over');
      assert.ok(pidAlive(proxyPid));
      const deadline = Date.now() + 15_000;
      while (pidAlive(first.proxyPid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      assert.ok(!pidAlive(first.proxyPid), 'the old proxy drained and exited');
      const afterStatus = await proxy.status();
      assert.equal(afterStatus.pid, proxyPid);
      assert.notEqual(afterStatus.version, before.version, 'the proxy runs the new build');
      const created = spawnSync('ssh', sshArgs('apps:create', 'reportapp'), { encoding: 'utf8', timeout: 30_000 });
      assert.equal(created.status, 0, created.stderr);
      const report = spawnSync('ssh', sshArgs('proxy:report', 'reportapp'), { encoding: 'utf8', timeout: 30_000 });
      assert.equal(report.status, 0, report.stderr);
      assert.ok(report.stdout.includes(`pid ${proxyPid}, version ${afterStatus.version}`), report.stdout);

      assert.deepEqual(JSON.parse(readFileSync(path.join(run(), 'ports.json'), 'utf8')).ssh, ports[0]);
      assert.equal(servedHostKey(), fingerprint(hostKey()), 'same host key served after the upgrade');
      assert.deepEqual(adminKeys(), [['install-test@paas', 'admin', fingerprint(adminPub)]], 'the admin key is listed once');
      const version = spawnSync('ssh', sshArgs('version'), { encoding: 'utf8', timeout: 30_000 });
      assert.equal(version.status, 0, `ssh with the admin key after the upgrade failed: ${version.stderr}`);
    });
  });
});
