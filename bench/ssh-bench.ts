/**
 * `npm run bench ssh`: the round trip of `ssh -p PORT paas@127.0.0.1 apps:list` against
 * `ssh paasbench@127.0.0.1 true` served by OpenSSH's sshd on the same machine, plus the idle RSS
 * of the paas control plane on a fresh process and after the runs. Needs openssh-server (apt) and
 * root (it creates the system user `paasbench` once).
 *
 * Fairness: the reference user's login shell is /bin/sh (dash) and its home holds nothing but
 * .ssh/authorized_keys, so `true` runs no start-up files (root's .bashrc here starts pyenv twice,
 * which once made the reference 0.13 s slower). sshd runs with a minimal config of its own (no PAM,
 * no DNS, no motd/lastlog, no ~/.ssh/rc); both sides use the same client, options, key type and
 * ed25519 host key, and the same key exchange (curve25519-sha256: the ssh2 library paas uses has no
 * sntrup761x25519, which OpenSSH 9 prefers; OpenSSH with its default is shown as a third column).
 * The order of the sides rotates each run.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PaasServer, sshOptions } from '../test/helpers/paas-server.js';
import { fmtStats, median, plural, ratio, Results, rssMb, sleep, timed, waitForQuiet } from './bench-stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;
const KEX = 'curve25519-sha256';
const USER = 'paasbench';
const HOME = '/var/lib/paasbench';

/** The reference user: system account, /bin/sh, home with only .ssh/authorized_keys (re-written each run). */
function ensureBenchUser(pubKey: string): void {
  try {
    execFileSync('id', [USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--shell', '/bin/sh', '--home-dir', HOME, '--no-create-home', USER]);
  }
  execFileSync('usermod', ['--shell', '/bin/sh', '--home', HOME, '-p', '*', USER]); // '*': not locked for sshd, no password
  fs.mkdirSync(path.join(HOME, '.ssh'), { recursive: true });
  const extra = fs.readdirSync(HOME).filter((f) => f !== '.ssh');
  const extraSsh = fs.readdirSync(path.join(HOME, '.ssh')).filter((f) => f !== 'authorized_keys');
  if (extra.length || extraSsh.length)
    throw new Error(`${HOME} must hold only .ssh/authorized_keys; found ${[...extra, ...extraSsh].join(', ')}`);
  fs.writeFileSync(path.join(HOME, '.ssh', 'authorized_keys'), pubKey);
  execFileSync('chown', ['-R', `${USER}:`, HOME]);
  fs.chmodSync(HOME, 0o755);
  fs.chmodSync(path.join(HOME, '.ssh'), 0o700);
  fs.chmodSync(path.join(HOME, '.ssh', 'authorized_keys'), 0o600);
  if (fs.existsSync('/etc/ssh/sshrc')) throw new Error('/etc/ssh/sshrc exists: sshd would run it for the reference');
}

/** "kex / host key / cipher" as the client negotiated them, from `ssh -v`. */
async function negotiated(args: string[]): Promise<string> {
  const r = await execa('ssh', ['-v', ...args.map((a) => (a === 'LogLevel=ERROR' ? 'LogLevel=DEBUG1' : a))], { reject: false, all: true });
  const out = String(r.all);
  const kex = /kex: algorithm: (\S+)/.exec(out)?.[1] ?? '?';
  const hostKey = /kex: host key algorithm: (\S+)/.exec(out)?.[1] ?? '?';
  const cipher = /kex: server->client cipher: (\S+) MAC: (\S+)/.exec(out);
  return `${kex}, ${hostKey}, ${cipher ? (cipher[2] === '<implicit>' ? cipher[1] : `${cipher[1]}/${cipher[2]}`) : '?'}`;
}

async function main() {
  const res = new Results('ssh', 'SSH round trip and control-plane memory');
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn' }).start();
  const dir = path.join(paas.dataDir, 'sshd');
  fs.mkdirSync(dir);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
  ensureBenchUser(fs.readFileSync(paas.key.pub, 'utf8'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  fs.mkdirSync('/run/sshd', { recursive: true });
  // a config of its own: the system sshd_config (and its includes) play no part
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host')}`,
    'PidFile none',
    'UsePAM no',
    'UseDNS no',
    'PermitRootLogin no',
    `AllowUsers ${USER}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PrintMotd no',
    'PrintLastLog no',
    'PermitUserRC no',
    'X11Forwarding no',
    'Subsystem sftp internal-sftp',
  ];
  fs.writeFileSync(path.join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let sshdLog = '';
  sshd.stderr.on('data', (d) => (sshdLog += d));
  try {
    await sleep(500);
    // the same key exchange on both sides: ssh2 (paas) has no sntrup761x25519, OpenSSH 9 prefers it
    const kex = ['-o', `KexAlgorithms=${KEX}`];
    const refArgs = [...sshOptions(paas.key.priv, port), ...kex, `${USER}@127.0.0.1`, 'true'];
    const refDefaultArgs = [...sshOptions(paas.key.priv, port), `${USER}@127.0.0.1`, 'true'];
    const paasArgs = [...sshOptions(paas.key.priv, paas.ports.ssh), ...kex, 'paas@127.0.0.1', 'apps:list'];
    const check = await execa('ssh', refArgs, { reject: false });
    if (check.exitCode !== 0) throw new Error(`reference ssh failed (${check.exitCode}): ${check.stderr}\n${sshdLog}`);
    const algRef = await negotiated(refArgs);
    const algRefDefault = await negotiated(refDefaultArgs);
    const algPaas = await negotiated(paasArgs);

    // idle RSS of the control plane, fresh: started, one admin call, no ssh session yet
    await sleep(2000);
    const freshRss = rssMb(paas.pid);

    const load = await waitForQuiet('ssh round trip');
    const sides = [refArgs, paasArgs, refDefaultArgs];
    for (let i = 0; i < WARMUP; i++) for (const args of sides) await execa('ssh', args);
    const times: number[][] = sides.map(() => []);
    for (let i = 0; i < RUNS; i++) {
      // rotate the order: each side goes first, second and third equally often
      for (let k = 0; k < sides.length; k++) {
        const j = (i + k) % sides.length;
        times[j].push(await timed(() => execa('ssh', sides[j])));
      }
    }
    const [ref, ours, refDefault] = times;
    await sleep(2000);
    const afterRss = rssMb(paas.pid);
    const proxyPid = paas.proxyPid();
    const proxyRss = proxyPid ? rssMb(proxyPid) : Number.NaN;

    const cond = `${plural(RUNS, 'run')} each after ${WARMUP} warm-up calls, order rotated each run; ${load}`;
    res.add({
      figure: `ssh round trip (new connection, key auth, one command), kex ${KEX} on both`,
      paas: `\`apps:list\` ${fmtStats(ours, 'ms', 1)}`,
      reference: `OpenSSH sshd, \`ssh ${USER}@127.0.0.1 true\` (login shell /bin/sh, no start-up files) ${fmtStats(ref, 'ms', 1)}`,
      ratio: ratio(median(ours), median(ref)),
      conditions: `${cond}; target ≤ 1.5x`,
    });
    res.add({
      figure: "ssh round trip, OpenSSH's default kex",
      paas: `(as above) ${median(ours).toFixed(1)} ms`,
      reference: `OpenSSH, same command, kex ${algRefDefault.split(',')[0]} ${fmtStats(refDefault, 'ms', 1)}`,
      ratio: ratio(median(ours), median(refDefault)),
      conditions: `${cond}; shown for reference only: paas (ssh2) cannot offer this kex`,
    });
    res.add({
      figure: 'idle RSS of the control plane (compiled dist/)',
      paas: `${freshRss.toFixed(1)} MB fresh, ${afterRss.toFixed(1)} MB after the runs`,
      reference: '',
      ratio: '',
      conditions: `fresh: 2 s after start and one admin call; after: 2 s after ${3 * (RUNS + WARMUP)} ssh sessions (${RUNS + WARMUP} to paas); proxy primary ${proxyRss.toFixed(1)} MB; target ≤ 60 MB (issue 11)`,
    });
    res.note(`negotiated (client view): paas ${algPaas}; OpenSSH ${algRef}. Same client, same options, same ed25519 user key.`);
    res.note(
      `${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}; sshd with its own minimal config (UsePAM no, UseDNS no, PermitUserRC no).`,
    );
    res.write();
  } finally {
    sshd.kill();
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
