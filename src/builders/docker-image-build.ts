import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { engineMessage, errMessage, statusOf } from '../runtime/docker-error-details.js';
import { exposedPortsOf } from '../runtime/image-ports.js';
import { LineSplitter } from '../util/json-lines.js';
import { createBuildContext } from './build-context.js';
import { checkBuildImages } from './build-image-check.js';
import type { BuildRequest } from './builder.js';
import { BuildErrors } from './build-errors.js';

export interface DockerImageBuildOptions
  extends Pick<BuildRequest, 'imageTag' | 'buildArgs' | 'labels' | 'output' | 'signal' | 'imagePolicy'> {
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
  const context = await createBuildContext(o.contextDir, { dockerfile: o.dockerfile, extraIgnore: o.extraIgnore });

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
        abortSignal: o.signal,
      } as Dockerode.ImageBuildOptions,
    )) as unknown as Readable;
  } catch (e) {
    context.destroy();
    if (o.signal.aborted) throw BuildErrors.cancelled('build cancelled', e);
    // The engine rejects a bad Dockerfile (parse error, unknown instruction) before streaming: a build failure.
    const status = statusOf(e);
    if (status !== undefined && status >= 400 && status < 500) throw BuildErrors.failed(`build failed: ${oneLine(engineMessage(e))}`, e);
    throw BuildErrors.docker(`docker build request failed: ${oneLine(engineMessage(e))}`, e);
  }

  const outcome = await followBuild(stream, o.output, o.signal);
  if (o.signal.aborted) {
    // Closing the request makes the engine kill the step's container, but in its own time: remove
    // them here and wait, so that nothing of a cancelled build still runs once the push has failed.
    await removeStepContainers(docker, log, outcome.stepContainers);
    throw BuildErrors.cancelled('build cancelled');
  }
  if (outcome.error && retryVanishedLayer && VANISHED_LAYER.test(outcome.error.trim())) {
    log.warn({ image: o.imageTag, error: outcome.error }, 'a cached layer vanished during the build; building again');
    o.output.write('A cached layer was deleted during the build (an image prune ran at the same time); building again\n');
    return buildDockerImage(docker, log, o, false);
  }
  if (outcome.error) {
    const step = outcome.lastStep ? ` (${outcome.lastStep})` : '';
    throw BuildErrors.failed(`build failed${step}: ${oneLine(outcome.error)}`);
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
