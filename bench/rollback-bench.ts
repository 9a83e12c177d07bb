/**
 * `npm run bench rollback`: `releases:rollback` of a small app (busybox httpd, health path /)
 * until the old content is served through the proxy, against replacing a container by hand
 * (`docker run` of the old image + wait for HTTP + `docker rm -f` of the new one). Target: < 5 s.
 */
import path from 'node:path';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, viaProxy, healthAppJson } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { httpGet } from '../test/helpers/docker.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { median, timed } from './bench-stats.js';
import { waitFor } from '../test/helpers/wait.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function main() {
  await ensureBusyboxImage();
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn' }).start();
  try {
    const repo = path.join(paas.dataDir, 'repo');
    await commitFiles(repo, busyboxApp('A', { 'app.json': healthAppJson() }));
    for (const m of ['A', 'B']) {
      if (m === 'B') await commitFiles(repo, { 'www/index.html': 'B\n' });
      const r = await push(paas, repo, 'rb');
      if (r.exitCode !== 0) throw new Error(r.output);
    }
    const hand: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      hand.push(
        await timed(async () => {
          const id = (await execa('docker', ['run', '-d', '--label', 'paas.test=1', '-e', 'PORT=5000', 'paas/rb:v1'])).stdout.trim();
          const ip = (
            await execa('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])
          ).stdout.trim();
          await waitFor('the new content', async () => (await httpGet(`http://${ip}:5000/`, 1000)).status === 200);
          await execa('docker', ['rm', '-f', id]);
        }),
      );
      const live = (await viaProxy(paas, 'rb.paas.test')).body.trim();
      const want = live === 'A' ? 'B' : 'A';
      ours.push(
        await timed(async () => {
          const r = await paas.ssh('releases:rollback rb');
          if (r.exitCode !== 0) throw new Error(r.stderr);
          await waitFor('the new content', async () => (await viaProxy(paas, 'rb.paas.test', '/', 1000)).body.trim() === want);
        }),
      );
    }
    const mh = median(hand);
    const mo = median(ours);
    console.log(`rollback of a busybox httpd app, median of ${RUNS}:`);
    console.log(`  by hand: docker run old image + HTTP up + rm new   ${(mh / 1000).toFixed(2)} s`);
    console.log(
      `  paas:    releases:rollback until served via proxy  ${(mo / 1000).toFixed(2)} s   [${ours.map((x) => (x / 1000).toFixed(2)).join(' ')}]`,
    );
    console.log(`  ratio paas/by-hand: ${(mo / mh).toFixed(2)}x (target: paas under 5 s)`);
  } finally {
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
