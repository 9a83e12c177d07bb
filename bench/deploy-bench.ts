/**
 * `npm run bench deploy`: a tiny Dockerfile app (busybox httpd), `git push` until the first 200
 * with the new content through the paas proxy, against the same `docker build` + `docker run` +
 * first `curl` done by hand, side by side and interleaved. Target ratio <= 1.3.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, viaProxy, healthAppJson } from '../test/helpers/app-repo.js';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { httpGet } from '../test/helpers/docker.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { median, timed } from './bench-stats.js';
import { waitFor } from '../test/helpers/wait.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function byHand(dir: string, marker: string): Promise<void> {
  fs.writeFileSync(path.join(dir, 'www', 'index.html'), `${marker}\n`);
  await execa('docker', ['build', '-q', '--label', 'paas.test=1', '-t', 'paas-bench/hand:latest', dir]);
  const id = (await execa('docker', ['run', '-d', '--label', 'paas.test=1', '-e', 'PORT=5000', 'paas-bench/hand:latest'])).stdout.trim();
  const ip = (await execa('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim();
  await waitFor('the new content', async () => (await httpGet(`http://${ip}:5000/`, 1000)).body === `${marker}\n`);
  await execa('docker', ['rm', '-f', id]);
}

async function main() {
  await ensureBusyboxImage();
  // no test labels: they would add LABEL build steps a real install does not have
  const paas = await new PaasServer({ PAAS_LOG_LEVEL: 'warn', PAAS_CONTAINER_LABELS: '' }).start();
  try {
    const hand = path.join(paas.dataDir, 'hand');
    for (const [f, c] of Object.entries(busyboxApp('x'))) {
      fs.mkdirSync(path.dirname(path.join(hand, f)), { recursive: true });
      fs.writeFileSync(path.join(hand, f), c);
    }
    const repo = path.join(paas.dataDir, 'repo');
    // the app declares a health check path, as kamal-proxy requires (/up) and Dokku recommends
    await commitFiles(repo, busyboxApp('warmup', { 'app.json': healthAppJson() }));
    const first = await push(paas, repo, 'bench');
    if (first.exitCode !== 0) throw new Error(first.output);
    await byHand(hand, 'warmup');
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await timed(() => byHand(hand, `hand-${i}`)));
      const marker = `paas-${i}`;
      await commitFiles(repo, { 'www/index.html': `${marker}\n` });
      // the clock stops at the first 200 with the new content, which may come before git exits
      const t0 = performance.now();
      const pushed = push(paas, repo, 'bench').then((r) => {
        if (r.exitCode !== 0) throw new Error(r.output);
        c.push(performance.now() - t0);
      });
      await waitFor('the new content', async () => (await viaProxy(paas, 'bench.paas.test', '/', 1000)).body === `${marker}\n`);
      b.push(performance.now() - t0);
      await pushed;
    }
    const ma = median(a);
    const mb = median(b);
    console.log(`deploy of a busybox httpd app until the first 200 with new content, median of ${RUNS} (interleaved):`);
    console.log(
      `  by hand: docker build + docker run + curl   ${(ma / 1000).toFixed(2)} s   [${a.map((x) => (x / 1000).toFixed(2)).join(' ')}]`,
    );
    console.log(
      `  paas:    git push + first 200 via proxy     ${(mb / 1000).toFixed(2)} s   [${b.map((x) => (x / 1000).toFixed(2)).join(' ')}]`,
    );
    console.log(`  paas:    git push exit (old containers stopped)  ${(median(c) / 1000).toFixed(2)} s`);
    console.log(`  ratio paas/by-hand: ${(mb / ma).toFixed(2)}x (target <= 1.3x)`);
  } finally {
    await paas.ssh('apps:destroy bench --force');
    await paas.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
