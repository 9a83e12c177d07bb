/**
 * `npm run bench ssh`: the round trip of `ssh -p PORT paas@127.0.0.1 apps:list` against
 * `ssh 127.0.0.1 true` served by OpenSSH's sshd on the same machine, side by side, plus the
 * idle RSS of the paas control plane and proxy. Needs openssh-server (apt) and root.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PaasServer, sshOptions } from '../test/helpers/paas-server.js';
import { median, rssMb, timed } from './bench-stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

async function main() {
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn' }).start();
  const dir = path.join(paas.dataDir, 'sshd');
  fs.mkdirSync(dir);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
  fs.copyFileSync(paas.key.pub, path.join(dir, 'authorized_keys'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  fs.mkdirSync('/run/sshd', { recursive: true });
  const sshd = spawn(
    '/usr/sbin/sshd',
    [
      '-D',
      '-e',
      '-p',
      String(port),
      '-h',
      path.join(dir, 'host'),
      '-o',
      `AuthorizedKeysFile=${path.join(dir, 'authorized_keys')}`,
      '-o',
      'StrictModes=no',
      '-o',
      'ListenAddress=127.0.0.1',
      '-o',
      'PermitRootLogin=yes',
      '-o',
      'UsePAM=no',
      '-o',
      'PidFile=none',
      '-o',
      'UseDNS=no',
    ],
    { stdio: 'ignore' },
  );
  try {
    await new Promise((r) => setTimeout(r, 500));
    const opensshRun = () => execa('ssh', [...sshOptions(paas.key.priv, port), 'root@127.0.0.1', 'true']);
    const paasRun = () => execa('ssh', [...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', 'apps:list']);
    await opensshRun();
    await paasRun();
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await timed(opensshRun));
      b.push(await timed(paasRun));
    }
    const ma = median(a);
    const mb = median(b);
    await new Promise((r) => setTimeout(r, 2000));
    const control = rssMb(paas.pid);
    const proxy = rssMb(paas.proxyPid()!);
    console.log(`ssh round trip, median of ${RUNS} (interleaved):`);
    console.log(`  OpenSSH sshd   ssh 127.0.0.1 true        ${ma.toFixed(1)} ms`);
    console.log(`  paas           ssh paas@127.0.0.1 apps:list ${mb.toFixed(1)} ms`);
    console.log(`  ratio paas/openssh: ${(mb / ma).toFixed(2)}x (target <= 1.5x)`);
    console.log(`idle RSS: control plane ${control.toFixed(1)} MB (target < 80 MB), proxy primary ${proxy.toFixed(1)} MB`);
  } finally {
    sshd.kill();
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
