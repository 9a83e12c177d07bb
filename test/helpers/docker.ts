// Docker for tests: a client that fails LOUDLY when the engine does not answer (Docker tests are
// never skipped), labels that mark what a test creates, and a cleanup by label for after() hooks.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Dockerode from 'dockerode';

export const TEST_LABEL = 'paas.test';
export const TEST_RUN_LABEL = 'paas.test.run';

let client: Dockerode | null = null;

export function dockerClient(): Dockerode {
  if (!client) {
    const host = process.env.DOCKER_HOST;
    client =
      host?.startsWith('unix://') || !host
        ? new Dockerode({ socketPath: host ? host.slice('unix://'.length) : '/var/run/docker.sock' })
        : new Dockerode();
  }
  return client;
}

/** Pings the engine; throws with a clear message (never skips) when it does not answer. */
export async function requireDocker(): Promise<Dockerode> {
  const docker = dockerClient();
  try {
    await Promise.race([docker.ping(), new Promise((_r, rej) => setTimeout(() => rej(new Error('no answer within 5 s')), 5000))]);
  } catch (e) {
    throw new Error(
      `Docker engine not reachable at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'} (${e instanceof Error ? e.message : String(e)}). ` +
        'These tests need a real engine: start it with `dockerd >/var/log/dockerd.log 2>&1 &` and wait for `docker info`.',
    );
  }
  return docker;
}

/**
 * Labels for one test file's resources: `paas.test=1` plus a run id, so one file's cleanup
 * never removes what a concurrently running file made.
 */
export function testLabels(scope = 'test'): Record<string, string> {
  return { [TEST_LABEL]: '1', [TEST_RUN_LABEL]: `${scope}-${randomBytes(4).toString('hex')}` };
}

/** `key` or `key=value` for a Docker label filter from a labels object's run id. */
export function runFilter(labels: Record<string, string>): string {
  const run = labels[TEST_RUN_LABEL];
  return run ? `${TEST_RUN_LABEL}=${run}` : TEST_LABEL;
}

/**
 * Removes containers, then networks, then images carrying `label` (`key` or `key=value`).
 * Never throws: safe in after() hooks of a failed test. Returns what it removed.
 */
/**
 * An app's long-running containers of one test server, as sorted `process@vN` (one-off task
 * containers and the paused web containers of a warm previous release left out: they are no
 * replicas; test/e2e/instant-rollback.test.ts is about them).
 */
export async function runningReplicas(labels: Record<string, string>, app: string): Promise<string[]> {
  return (await dockerClient().listContainers({ filters: { label: [`paas.app=${app}`, runFilter(labels)] } }))
    .filter((c) => c.Labels['paas.oneoff'] === undefined && c.State !== 'paused')
    .map((c) => `${c.Labels['paas.process']}@v${c.Labels['paas.release']}`)
    .sort();
}

export async function cleanupByLabel(label = TEST_LABEL): Promise<{ containers: number; networks: number; images: number }> {
  const docker = dockerClient();
  const filters = { label: [label] };
  const removed = { containers: 0, networks: 0, images: 0 };
  try {
    const containers = await docker.listContainers({ all: true, filters });
    await Promise.all(
      containers.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .then(() => removed.containers++)
          .catch(() => {}),
      ),
    );
  } catch {}
  try {
    // named volumes (add-on data) outlive their containers: removed by label too
    const { Volumes } = await docker.listVolumes({ filters });
    for (const v of Volumes ?? [])
      await docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {});
  } catch {}
  try {
    const networks = await docker.listNetworks({ filters });
    for (const n of networks) {
      await docker
        .getNetwork(n.Id)
        .remove()
        .then(() => removed.networks++)
        .catch(() => {});
    }
  } catch {}
  try {
    const images = await docker.listImages({ all: false, filters });
    for (const img of images) {
      await docker
        .getImage(img.Id)
        .remove({ force: true })
        .then(() => removed.images++)
        .catch(() => {});
    }
  } catch {}
  return removed;
}

/** GETs `url` until it answers (any status) or `timeoutMs` passes; returns status and body. */
export async function httpGet(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return { status: res.status, body: await res.text() };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms: ${last instanceof Error ? (last.cause ?? last.message) : String(last)}`);
}

/** A writable that collects everything written to it (build output, one-off stdout). */
export class Collector {
  chunks: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer | string, _enc, cb) => {
      this.chunks.push(chunk.toString());
      cb();
    },
  });
  get text(): string {
    return this.chunks.join('');
  }
}
