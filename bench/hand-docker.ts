/**
 * The "by hand" side of the deploy, scale and rollback benches: the docker CLI calls a person
 * would type, with the same container options paas gives its replicas (src/runtime/
 * container-runtime.ts: network `paas` with an alias, `--init`, restart on-failure:10, json-file
 * log limits, PORT in the env), so both sides ask the engine for the same work.
 */
import { execa } from 'execa';
import { pollUntil, probe, sleep } from './bench-stats.js';

export const HAND_RUN_OPTIONS =
  '`docker run -d --network paas --network-alias <app>.web --init --restart on-failure:10 --log-driver json-file --log-opt max-size=10m --log-opt max-file=3 -e PORT=5000`';

/** `docker run -d` with paas's container options; returns the container id. `network`: the app's own (`paas-<app>`) where paas runs one. */
export async function handRun(image: string, labels: Record<string, string>, alias: string, network = 'paas'): Promise<string> {
  const args = ['run', '-d', '--network', network, '--network-alias', alias, '--init', '--restart', 'on-failure:10'];
  args.push('--log-driver', 'json-file', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', '-e', 'PORT=5000');
  for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
  return (await execa('docker', [...args, image])).stdout.trim();
}

export async function containerIp(id: string): Promise<string> {
  return (await execa('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim();
}

/** Polls the container's port directly (one GET every 20 ms, as the paas side polls its proxy) until `ok`. */
export async function waitServed(ip: string, ok: (status: number, body: string) => boolean, ms = 60_000): Promise<void> {
  await pollUntil(
    `http://${ip}:5000/`,
    async () => {
      const r = await probe(`http://${ip}:5000/`, { timeoutMs: 1000 });
      return r !== null && ok(r.status, r.body);
    },
    ms,
  );
}

/** Untimed cleanup, on both sides of every comparison. */
export async function handRemove(ids: string[]): Promise<void> {
  if (ids.length) await execa('docker', ['rm', '-f', ...ids], { reject: false });
}

/**
 * The live traffic of the by-hand side while it deploys. On paas the clock's GET (every 20 ms)
 * reaches the previous release through the proxy until traffic switches; by hand the same GET
 * goes to the previous container (`ip`; none on a first deploy) until `stop()`, called once the
 * new container has an address and polling moves there. Both sides thus serve the same requests
 * while they build and start.
 */
export function liveTraffic(ip: string | null): { stop(): void } {
  let stopped = false;
  void (async () => {
    while (ip && !stopped) {
      await probe(`http://${ip}:5000/`, { timeoutMs: 1000 });
      await sleep(20);
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
  };
}
