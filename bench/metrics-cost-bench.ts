import http from 'node:http';
import os from 'node:os';
import { ensureBusyboxImage } from '../test/helpers/base-images.js';
import { dockerClient } from '../test/helpers/docker.js';
import { PaasServer } from '../test/helpers/paas-server.js';
import { Results, sleep, waitForQuiet } from './bench-stats.js';
import { cpuSeconds, removeContainers, startIdleContainers } from './idle-containers.js';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(`--${n}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const N = arg('containers', 20);
const SECONDS = arg('seconds', 300);
const EVERY = arg('every', 15);
function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}

/** The control plane's CPU (% of a core) over `seconds`, scraping every EVERY s when `port` is given. */
async function window(pid: number, seconds: number, port: number | null): Promise<{ cpu: number; bytes: number; scrapes: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = Date.now();
  let bytes = 0;
  let scrapes = 0;
  while (Date.now() - t0 < seconds * 1000) {
    if (port !== null) {
      bytes = await get(port);
      scrapes++;
    }
    await sleep(Math.min(EVERY * 1000, Math.max(0, seconds * 1000 - (Date.now() - t0))));
  }
  return { cpu: ((cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000)) * 100, bytes, scrapes };
}

async function main() {
  await ensureBusyboxImage();
  const docker = dockerClient();
  const paas = await new PaasServer().start();
  const ids: string[] = [];
  try {
    ids.push(
      ...(await startIdleContainers(docker, N, (i) => ({
        ...paas.labels,
        'paas.app': `cost${i}`,
        'paas.process': 'web',
        'paas.release': '1',
        'paas.replica': '1',
      }))),
    );
    const report = JSON.parse((await paas.ssh('metrics:report --json')).stdout) as { listening: string };
    const port = Number(report.listening.split(':').pop());
    const first = await get(port);
    if (first < 1000) throw new Error(`the endpoint answered ${first} bytes`);
    const load = await waitForQuiet('metrics cost', 1.0, arg('quiet-wait', 180) * 1000);
    const pid = paas.pid;
    const on = await window(pid, SECONDS, port);
    await paas.ssh('metrics:set listen off');
    const off = await window(pid, SECONDS, null);
    const res = new Results('metrics-cost', "the control plane's CPU with metrics on");
    const cond = `${N} running app containers (idle busybox); ${SECONDS} s each; control-plane process CPU from /proc; ${os.availableParallelism()} cores; ${load}`;
    res.add({
      figure: `control-plane CPU, metrics scraped every ${EVERY} s, ${N} containers`,
      paas: `${on.cpu.toFixed(2)}% of a core`,
      reference: `endpoint off (only the 10 s ps:top window step): ${off.cpu.toFixed(2)}% of a core`,
      ratio: '',
      conditions: `${cond}; ${on.scrapes} scrapes of ${on.bytes} bytes; target < 1% of a core`,
    });
    res.write();
  } finally {
    await removeContainers(docker, ids);
    await paas.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
