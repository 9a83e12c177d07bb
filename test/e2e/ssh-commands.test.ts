import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { freePorts } from '../helpers/install.js';
import { makeKey, NO_KNOWN_HOSTS, PaasServer, paasCli, sshOptions } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

let paas: PaasServer;
before(async () => {
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

test('server writes ports.json and pid files; host key is ed25519 and the db is mode 600', () => {
  const run = path.join(paas.dataDir, 'run');
  const ports = JSON.parse(fs.readFileSync(path.join(run, 'ports.json'), 'utf8'));
  for (const k of ['ssh', 'http', 'https']) assert.ok(Number.isInteger(ports[k]) && ports[k] > 0, `${k} port`);
  assert.equal(Number(fs.readFileSync(path.join(run, 'control.pid'), 'utf8')), paas.pid);
  const proxyPid = Number(fs.readFileSync(path.join(run, 'proxy.pid'), 'utf8'));
  assert.ok(proxyPid > 0);
  process.kill(proxyPid, 0);
  assert.match(fs.readFileSync(path.join(paas.dataDir, 'keys', 'ssh_host_ed25519_key.pub'), 'utf8'), /^ssh-ed25519 /);
  assert.equal(fs.statSync(path.join(paas.dataDir, 'paas.db')).mode & 0o777, 0o600);
});

const appNames = async () => JSON.parse((await paas.ssh('apps:list --json')).stdout).map((a: { name: string }) => a.name) as string[];

test('apps:create, list, info and destroy over real ssh, with --json', async () => {
  const before = await appNames();
  assert.equal(before.includes('shop'), false);
  let r = await paas.ssh('apps:create shop');
  assert.equal(r.exitCode, 0, r.stderr);
  r = await paas.ssh('apps:create shop');
  assert.equal(r.exitCode, 1);
  assert.equal(r.stderr, "error: app 'shop' already exists\n");
  assert.deepEqual(await appNames(), [...before, 'shop'].sort());
  r = await paas.ssh('apps:list');
  assert.match(r.stdout, /^NAME\s+RELEASE\s+CREATED\n/);
  assert.match(r.stdout, /^shop\s+-\s+\d{4}-/m);
  r = await paas.ssh('apps:info --app shop --json');
  assert.equal(r.exitCode, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.url, 'http://shop.paas.test');
  assert.equal(info.release, null);
  r = await paas.ssh('apps:destroy shop');
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /confirm with --force/);
  r = await paas.ssh('apps:destroy shop other');
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /does not match/);
  assert.equal((await appNames()).includes('shop'), true, 'nothing destroyed yet');
  r = await paas.ssh('apps:destroy shop shop');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(await appNames(), before);
  assert.equal(fs.existsSync(path.join(paas.dataDir, 'repos', 'shop.git')), false);
});

test('bad input gets one line on stderr, a non-zero exit and changes nothing', async () => {
  const cases: [string, RegExp, number][] = [
    ['apps:lst', /^error: unknown command 'apps:lst'; did you mean 'apps:list'\?/, 2],
    ['apps:create Bad_Name', /^error: invalid app name 'Bad_Name'/, 2],
    ['apps:create ../x', /^error: invalid app name '..\/x'/, 2],
    [`apps:create a${'b'.repeat(48)}`, /^error: invalid app name/, 2],
    ['apps:create', /^error: no app given/, 2],
    ['apps:create one two', /^error: unexpected argument 'two'/, 2],
    ['apps:info nope', /^error: app 'nope' does not exist/, 1],
    ['apps:list; rm -rf /', /^error: shell syntax ';' is not supported/, 2],
    ['apps:list --frobnicate', /^error: Unknown option '--frobnicate'/, 2],
    ['ssh-keys:remove ghost', /^error: no key named 'ghost'/, 1],
  ];
  const before = await appNames();
  for (const [cmd, re, code] of cases) {
    const r = await paas.ssh(cmd);
    assert.equal(r.exitCode, code, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, re, cmd);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${cmd} prints one line`);
  }
  assert.deepEqual(await appNames(), before);
});

test('ssh-keys: add from stdin, duplicate refused, unknown key refused, last admin kept', async () => {
  const keyNames = async () => JSON.parse((await paas.ssh('ssh-keys:list --json')).stdout).map((k: { name: string }) => k.name);
  const before = await keyNames();
  assert.equal(before.includes('tester'), true);
  const bob = await makeKey(paas.keyDir, 'bob');
  let r = await paas.ssh('ssh-keys:add bob', { input: fs.readFileSync(bob.pub, 'utf8') });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Added key bob \(ssh-ed25519 SHA256:/);
  r = await paas.ssh('ssh-keys:add bob2', { input: fs.readFileSync(bob.pub, 'utf8') });
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /already registered as 'bob'/);
  r = await paas.ssh('ssh-keys:add junk', { input: 'not a key' });
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /not an OpenSSH public key/);
  r = await paas.ssh('apps:list', { key: bob.priv });
  assert.equal(r.exitCode, 0, 'bob can log in');
  assert.deepEqual(await keyNames(), [...before, 'bob'].sort());
  r = await paas.ssh('ssh-keys:remove bob');
  assert.equal(r.exitCode, 0);
  assert.deepEqual(await keyNames(), before);
  r = await paas.ssh('apps:list', { key: bob.priv });
  assert.equal(r.exitCode, 255, 'removed key is refused');
  assert.match(r.stderr, /Permission denied \(publickey\)/);
  r = await paas.ssh('ssh-keys:remove tester');
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /last admin key/);
  const stranger = await makeKey(paas.keyDir, 'stranger');
  r = await paas.ssh('apps:list', { key: stranger.priv });
  assert.equal(r.exitCode, 255);
  assert.match(r.stderr, /Permission denied \(publickey\)/);
});

/** A TCP server that counts the connections that reach it. */
async function countingServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = net.createServer((sock) => {
    n++;
    sock.end('reached the target\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => n,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

test('no shell and no password auth', async () => {
  const shell = await execa('ssh', [...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1'], { reject: false, input: '' });
  assert.equal(shell.exitCode, 1);
  assert.match(String(shell.stderr), /Hi tester! paas gives no shell/);
  const pw = await execa(
    'ssh',
    [
      '-p',
      String(paas.ports.ssh),
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      `UserKnownHostsFile=${NO_KNOWN_HOSTS}`,
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'BatchMode=yes',
      'paas@127.0.0.1',
      'apps:list',
    ],
    { reject: false },
  );
  assert.equal(pw.exitCode, 255);
  assert.match(String(pw.stderr), /Permission denied \(publickey\)/);
});

test('a local forward (-L) is set up by the client, but a connection through it is refused by paas', async () => {
  const target = await countingServer();
  const [local] = await freePorts(1);
  const fwd = execa(
    'ssh',
    [
      ...sshOptions(paas.key.priv, paas.ports.ssh).map((o) => (o === 'LogLevel=ERROR' ? 'LogLevel=INFO' : o)),
      '-N',
      '-L',
      `${local}:127.0.0.1:${target.port}`,
      'paas@127.0.0.1',
    ],
    { reject: false, all: true, timeout: 120_000 },
  );
  try {
    // the client listens on the local port once it is logged in
    const sock = await waitFor(`ssh to listen on 127.0.0.1:${local}`, async () => {
      if (fwd.exitCode !== null) throw new Error(`ssh exited ${fwd.exitCode}`);
      return new Promise<net.Socket | null>((resolve) => {
        const s = net.connect(local, '127.0.0.1', () => resolve(s));
        s.once('error', () => resolve(null));
      });
    });
    // paas refuses the direct-tcpip channel: the client closes the local connection without data
    const received = await new Promise<string>((resolve) => {
      let data = '';
      sock.on('data', (d) => (data += d));
      sock.on('close', () => resolve(data));
    });
    assert.equal(received, '');
    assert.equal(target.connections(), 0, 'nothing reached the forward target');
  } finally {
    fwd.kill('SIGTERM');
    await target.close();
  }
  const r = await fwd;
  // the client reports that the server refused the channel (ssh2's reject() sends 'connect failed')
  assert.match(String(r.all), /channel \d+: open failed: connect failed/);
});

test('a remote forward (-R) is refused by paas', async () => {
  const target = await countingServer();
  try {
    const r = await execa(
      'ssh',
      [
        ...sshOptions(paas.key.priv, paas.ports.ssh),
        '-o',
        'ExitOnForwardFailure=yes',
        '-N',
        '-R',
        `0:127.0.0.1:${target.port}`,
        'paas@127.0.0.1',
      ],
      { reject: false, timeout: 60_000 },
    );
    assert.equal(r.exitCode, 255, String(r.stderr));
    assert.match(String(r.stderr), /remote port forwarding failed for listen port 0/);
    assert.equal(target.connections(), 0);
  } finally {
    await target.close();
  }
});

test('help, version and the audit log', async () => {
  const sql = (q: string) =>
    execa('python3', [
      '-c',
      `import json,sqlite3;c=sqlite3.connect('${paas.dataDir}/paas.db');print(json.dumps(c.execute("${q}").fetchall()))`,
    ]);
  const lastId = JSON.parse((await sql('select coalesce(max(id), 0) from events')).stdout)[0][0] as number;
  let r = await paas.ssh('help');
  assert.equal(r.exitCode, 0);
  for (const c of ['apps:create', 'apps:list', 'ssh-keys:add', 'version']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  r = await paas.ssh('help apps:destroy');
  assert.match(r.stdout, /Usage: paas apps:destroy/);
  assert.match(r.stdout, /--force/);
  r = await paas.ssh('version');
  assert.match(r.stdout, /^paas \d+\.\d+\.\d+\n$/);
  assert.equal((await paas.ssh('apps:info nope')).exitCode, 1);
  // one row per command: who, which command, which app, how it ended; never the arguments
  const rows = JSON.parse((await sql(`select key_name, command, app, exit_code from events where id > ${lastId} order by id`)).stdout);
  assert.deepEqual(rows, [
    ['tester', 'help', null, 0],
    ['tester', 'help', null, 0],
    ['tester', 'version', null, 0],
    ['tester', 'apps:info', 'nope', 1],
  ]);
});

test('the paas client finds host, port and app from the git remote and passes the exit code', async () => {
  const repo = fs.mkdtempSync(path.join(paas.dataDir, 'client-'));
  await execa('git', ['init', '-q', repo]);
  await execa('git', ['-C', repo, 'remote', 'add', 'paas', paas.remoteUrl('clientapp')]);
  const env = paas.clientEnv();
  let r = await paasCli(['apps:create', 'clientapp'], { cwd: repo, env });
  assert.equal(r.exitCode, 0, String(r.stderr));
  r = await paasCli(['apps:info', '--json'], { cwd: repo, env });
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.equal(JSON.parse(String(r.stdout)).name, 'clientapp');
  r = await paasCli(['apps:info', '--app', 'missing'], { cwd: repo, env });
  assert.equal(r.exitCode, 1);
  assert.match(String(r.stderr), /app 'missing' does not exist/);
  r = await paasCli(['apps:list'], { cwd: paas.keyDir, env });
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /no git remote 'paas' here/);
  r = await paasCli(['apps:list', '--host', `paas@127.0.0.1:${paas.ports.ssh}`], { cwd: paas.keyDir, env });
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.match(String(r.stdout), /clientapp/);
});

test('paas admin runs inside the running daemon (its settings apply), and in its own process when none runs', async () => {
  assert.equal((await paas.admin(['apps:create', 'adminapp'])).exitCode, 0);
  // the admin process is started with another domain in its environment: the daemon's wins
  const viaDaemon = await paasCli(['admin', '--data-dir', paas.dataDir, 'apps:info', 'adminapp', '--json'], {
    env: { ...paas.serverEnv, PAAS_DOMAIN: 'elsewhere.example' },
  });
  assert.equal(viaDaemon.exitCode, 0, String(viaDaemon.stderr));
  assert.equal(JSON.parse(String(viaDaemon.stdout)).url, 'http://adminapp.paas.test');
  const bad = await paas.admin(['apps:info', 'nope']);
  assert.equal(bad.exitCode, 1);
  assert.equal(String(bad.stderr), "error: app 'nope' does not exist");
  assert.equal((await paas.admin(['apps:destroy', 'adminapp', '--force'])).exitCode, 0);
  // with the daemon stopped, the same command runs in the admin process on the same database
  await paas.stop();
  assert.equal(fs.existsSync(path.join(paas.dataDir, 'run', 'admin.sock')), false);
  const local = await paas.admin(['ssh-keys:list', '--json']);
  assert.equal(local.exitCode, 0, String(local.stderr));
  assert.deepEqual(
    JSON.parse(String(local.stdout)).map((k: { name: string }) => k.name),
    ['tester'],
  );
});
