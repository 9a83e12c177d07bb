import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { engineMessage, errMessage, statusOf } from '../runtime/docker-error-details.js';
import { exposedPortsOf } from '../runtime/image-ports.js';
import { LineSplitter } from '../util/json-lines.js';
import { createBuildContext } from './build-context.js';
import { checkBuildImages } from './build-image-check.js';
import type { BuildRequest } from './builder.js';
import { type BuildStepLimits, limitLines } from './build-limits.js';
import { BuildErrors } from './build-errors.js';

export interface DockerImageBuildOptions
  extends Pick<BuildRequest, 'imageTag' | 'buildArgs' | 'labels' | 'output' | 'signal' | 'imagePolicy' | 'limits'> {
  contextDir: string;
  /** relative to contextDir */
  dockerfile: string;
  /** extra .dockerignore patterns for this build (a generated Dockerfile) */
  extraIgnore?: string[];
}

export interface DockerImageBuildResult {
  imageId: string;
  exposedPorts: number[];
}

interface BuildMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/**
 * What the engine says when a cached layer a build is using was deleted under it (an image
 * prune, ours for another app or anyone's, ran at the same time).
 */
const VANISHED_LAYER = /^unable to find image "sha256:[0-9a-f]{64}"$/;

/**
 * The one path every Docker build takes (the Dockerfile builder and the template builder):
 * POST /build with a tar of the context, the engine's progress lines streamed to `output` as
 * they arrive, a failed step turned into one clear line, the request aborted on `signal`. A
 * build whose cached layer vanished mid-build is run once more (the layer is then rebuilt).
 */
export async function buildDockerImage(
  docker: Dockerode,
  log: Logger,
  o: DockerImageBuildOptions,
  retryVanishedLayer = true,
): Promise<DockerImageBuildResult> {
  if (o.signal.aborted) throw BuildErrors.cancelled('build cancelled');
  // another app's image (FROM, COPY --from, ONBUILD) is refused before any step runs
  await checkBuildImages(docker, o);
  const limits = o.limits;
  if (limits && Date.now() >= limits.deadline) throw BuildErrors.limit(limitLines.time(limits));
  const context = await createBuildContext(o.contextDir, { dockerfile: o.dockerfile, extraIgnore: o.extraIgnore });

  // the build stops on the caller's signal, at its deadline, or when its steps hit the process limit
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const watch = limits ? watchLimits(limits, stop, log) : null;
  try {
    let stream: Readable;
    try {
      stream = (await docker.buildImage(
        context as unknown as NodeJS.ReadableStream,
        {
          t: o.imageTag,
          dockerfile: o.dockerfile,
          buildargs: o.buildArgs,
          labels: o.labels,
          rm: true,
          forcerm: true,
          pull: false,
          ...(limits ? stepLimitOptions(limits) : {}),
          abortSignal: stop.signal,
        } as Dockerode.ImageBuildOptions,
      )) as unknown as Readable;
    } catch (e) {
      context.destroy();
      if (stop.signal.aborted) throw stoppedError(o.signal, watch, limits, e);
      // The engine rejects a bad Dockerfile (parse error, unknown instruction) before streaming: a build failure.
      const status = statusOf(e);
      if (status !== undefined && status >= 400 && status < 500) throw BuildErrors.failed(`build failed: ${oneLine(engineMessage(e))}`, e);
      throw BuildErrors.docker(`docker build request failed: ${oneLine(engineMessage(e))}`, e);
    }

    const outcome = await followBuild(stream, o.output, stop.signal);
    if (stop.signal.aborted) {
      // Closing the request makes the engine kill the step's container, but in its own time: remove
      // them here and wait, so that nothing of a cancelled build still runs once the push has failed.
      await removeStepContainers(docker, log, outcome.stepContainers);
      throw stoppedError(o.signal, watch, limits);
    }
    if (outcome.error && retryVanishedLayer && VANISHED_LAYER.test(outcome.error.trim())) {
      log.warn({ image: o.imageTag, error: outcome.error }, 'a cached layer vanished during the build; building again');
      o.output.write('A cached layer was deleted during the build (an image prune ran at the same time); building again\n');
      return await buildDockerImage(docker, log, o, false);
    }
    if (outcome.error) {
      const hit = limits ? await limitHit(limits, outcome.error) : null;
      if (hit) throw BuildErrors.limit(limitLines[hit](limits!));
      const step = outcome.lastStep ? ` (${outcome.lastStep})` : '';
      throw BuildErrors.failed(`build failed${step}: ${oneLine(outcome.error)}`);
    }
  } finally {
    watch?.stop();
    o.signal.removeEventListener('abort', onAbort);
  }

  let info: Dockerode.ImageInspectInfo;
  try {
    info = await docker.getImage(o.imageTag).inspect();
  } catch (e) {
    throw BuildErrors.failed(`build finished but image ${o.imageTag} is missing: ${errMessage(e)}`, e);
  }
  log.debug({ image: o.imageTag, imageId: info.Id }, 'image built');
  return { imageId: info.Id, exposedPorts: exposedPortsOf(info) };
}

/**
 * The build API's limits: the build's parent cgroup (its pids and memory limits hold for all steps
 * together), or, where paas could not make one, the engine's per-step memory limit with no swap.
 * The classic builder takes no pids limit, capability drops or no-new-privileges: on Linux the
 * engine refuses `securityopt` for builds, so RUN steps keep Docker's default capabilities and
 * seccomp profile.
 */
function stepLimitOptions(l: BuildStepLimits): Record<string, unknown> {
  return l.cgroup ? { cgroupparent: l.cgroup.parent } : { memory: l.memoryBytes, memswap: l.memoryBytes };
}

type StopReason = 'time' | 'pids';

interface LimitWatch {
  reason(): StopReason | null;
  stop(): void;
}

/** Aborts `stop` at the deadline, or as soon as the build's cgroup shows a failed fork (a fork bomb never ends by itself). */
function watchLimits(l: BuildStepLimits, stop: AbortController, log: Logger, pollMs = 250): LimitWatch {
  let reason: StopReason | null = null;
  let poll: NodeJS.Timeout | null = null;
  const end = (why: StopReason) => {
    reason ??= why;
    stop.abort();
  };
  const timer = setTimeout(() => end('time'), Math.max(0, l.deadline - Date.now()));
  const cgroup = l.cgroup;
  if (cgroup) {
    const check = () => {
      poll = null;
      void cgroup.hits().then(
        (h) => {
          if (h.pids) end('pids');
          else if (!stop.signal.aborted) poll = setTimeout(check, pollMs);
        },
        (err: unknown) => log.warn({ err }, 'cannot read the build cgroup'),
      );
    };
    poll = setTimeout(check, pollMs);
  }
  return {
    reason: () => reason,
    stop: () => {
      clearTimeout(timer);
      if (poll) clearTimeout(poll);
    },
  };
}

function stoppedError(signal: AbortSignal, watch: LimitWatch | null, limits: BuildStepLimits | undefined, cause?: unknown): Error {
  const why = signal.aborted ? null : watch?.reason();
  if (!why || !limits) return BuildErrors.cancelled('build cancelled', cause);
  return BuildErrors.limit(limitLines[why](limits), cause);
}

/**
 * Which limit a failed build ran into, if any: a fork that failed at the pids limit, or a step the
 * OOM killer ended (or killed with SIGKILL while its memory was at the limit).
 */
async function limitHit(l: BuildStepLimits, error: string): Promise<'pids' | 'memory' | null> {
  const killed = /returned a non-zero code: 137\b/.test(error);
  if (!l.cgroup) return killed ? 'memory' : null;
  const h = await l.cgroup.hits().catch(() => null);
  if (!h) return null;
  if (h.pids) return 'pids';
  if (h.oomKills > 0 || (killed && h.memoryAtLimit)) return 'memory';
  return null;
}

interface BuildOutcome {
  error: string | null;
  lastStep: string | null;
  /** the classic builder's "Running in <id>" containers, one per RUN step */
  stepContainers: string[];
}

const STEP_CONTAINER = /^ ---> Running in ([0-9a-f]{12,64})\s*$/m;

async function removeStepContainers(docker: Dockerode, log: Logger, ids: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const id of ids) {
    const c = docker.getContainer(id);
    await c.remove({ force: true }).catch(() => {});
    // 404 once gone; a 409 "removal in progress" from the engine's own cleanup is waited out
    while (Date.now() < deadline) {
      const gone = await c.inspect().then(
        () => false,
        (e: unknown) => statusOf(e) === 404,
      );
      if (gone) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (Date.now() >= deadline) log.warn({ container: id }, 'build step container still present after cancel');
  }
}

function followBuild(stream: Readable, output: NodeJS.WritableStream, signal: AbortSignal): Promise<BuildOutcome> {
  return new Promise((resolve) => {
    const outcome: BuildOutcome = { error: null, lastStep: null, stepContainers: [] };
    const lines = new LineSplitter();
    let done = false;
    const finish = (err?: string) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      const rest = lines.flush();
      if (rest.trim()) handle(rest);
      if (err && !outcome.error) outcome.error = err;
      resolve(outcome);
    };
    const onAbort = () => {
      stream.destroy();
      finish('cancelled');
    };
    const handle = (line: string) => {
      if (!line.trim()) return;
      let msg: BuildMessage;
      try {
        msg = JSON.parse(line) as BuildMessage;
      } catch {
        output.write(`${line}\n`);
        return;
      }
      if (msg.stream !== undefined) {
        output.write(msg.stream);
        const m = /^Step \d+\/\d+ : (.*)/.exec(msg.stream.trim());
        if (m) outcome.lastStep = `${msg.stream.trim().split(' : ')[0]}: ${m[1]}`;
        const c = STEP_CONTAINER.exec(msg.stream);
        if (c) outcome.stepContainers.push(c[1]);
      } else if (msg.status !== undefined) {
        output.write(`${msg.id ? `${msg.id}: ` : ''}${msg.status}${msg.progress ? ` ${msg.progress}` : ''}\n`);
      }
      if (msg.errorDetail || msg.error) {
        outcome.error = msg.errorDetail?.message ?? msg.error ?? 'unknown build error';
        output.write(`${outcome.error}\n`);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) handle(line);
    });
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (e) => finish(signal.aborted ? 'cancelled' : `build stream failed: ${e.message}`));
  });
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
