import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import type { OwnContainerActions } from './own-container-actions.js';
import { baseCreateOptions, containerName, LABELS, specLabels } from './container-naming.js';
import type { ContainerSpec } from './container-spec.js';
import { errMessage, statusOf } from './docker-error-details.js';
import { FrameParser } from './docker-frames.js';
import { RuntimeErrors } from './runtime-errors.js';

export interface TerminalSize {
  rows: number;
  cols: number;
}

export interface OneOffIo {
  /** allocate a pty (the SSH client has one): stdout and stderr arrive merged on stdout */
  tty: boolean;
  /** forwarded to the container; its end closes the container's stdin. null/absent: no stdin */
  stdin?: NodeJS.ReadableStream | null;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** abort (the SSH session dropped): the container is killed and removed, the promise rejects */
  signal?: AbortSignal;
  /** the client's window size at start (tty only) */
  initialSize?: TerminalSize;
  /** subscribe to window changes (tty only); returns an unsubscribe function */
  onResize?: (listener: (size: TerminalSize) => void) => () => void;
}

export interface OneOffContext {
  spec: ContainerSpec;
  network: string;
  extraLabels: Record<string, string>;
  init: boolean;
  /** the image's ENTRYPOINT (null: none) */
  entrypoint: readonly string[] | null;
  /** the container is committed into an image after it exits (see afterExit) */
  committed?: boolean;
  /** told of the container once created: every event of it is paas's own */
  own: OwnContainerActions;
  /** runs after the container exited, before it is removed (a predeploy task's commit) */
  afterExit?: (container: Dockerode.Container, exitCode: number) => Promise<void>;
}

/**
 * Runs a one-off container (`paas run`): created with the release's image and config, attached
 * before start so no output is lost, exit code returned, always removed after.
 */
export async function runOneOff(docker: Dockerode, log: Logger, ctx: OneOffContext, io: OneOffIo): Promise<number> {
  const { spec } = ctx;
  if (io.signal?.aborted) throw RuntimeErrors.cancelled('cancelled before the one-off container started');
  const withStdin = io.stdin != null;
  const name = containerName(spec);
  let container: Dockerode.Container;
  try {
    // a container committed into an image (predeploy) goes without the one-off label: every
    // container of that image would inherit it; its other labels are the ones each container sets anyway
    const labels = { ...specLabels(spec, ctx.extraLabels), ...(ctx.committed ? {} : { [LABELS.oneOff]: '1' }) };
    const base = baseCreateOptions(spec, ctx.network, labels, ctx.init, ctx.entrypoint);
    container = await docker.createContainer({
      ...base,
      name,
      Tty: io.tty,
      OpenStdin: withStdin,
      StdinOnce: withStdin,
      AttachStdin: withStdin,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: { ...base.HostConfig, RestartPolicy: { Name: 'no' } },
    });
  } catch (e) {
    if (statusOf(e) === 404) throw RuntimeErrors.imageMissing(`image ${spec.image} is not on this host`, e);
    throw RuntimeErrors.startFailed(`cannot create one-off container: ${errMessage(e)}`, e);
  }

  ctx.own.claim(container.id);
  const cleanups: Array<() => void> = [];
  let aborted = false;
  try {
    const stream = (await container.attach({ stream: true, stdin: withStdin, stdout: true, stderr: true, hijack: true })) as Duplex;
    stream.on('error', () => {});
    const outputDone = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
    });
    if (io.tty) {
      stream.on('data', (d: Buffer) => io.stdout.write(d));
    } else {
      const frames = new FrameParser((s, d) => (s === 'stderr' ? io.stderr : io.stdout).write(d));
      stream.on('data', (d: Buffer) => frames.push(d));
      stream.on('end', () => frames.end());
    }

    const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    await container.start();
    log.info({ app: spec.app, id: container.id, name, tty: io.tty }, 'one-off container started');

    if (io.tty) {
      const resize = (s: TerminalSize) => {
        if (s.rows > 0 && s.cols > 0) container.resize({ h: s.rows, w: s.cols }).catch(() => {});
      };
      if (io.initialSize) resize(io.initialSize);
      const off = io.onResize?.(resize);
      if (off) cleanups.push(off);
    }
    if (withStdin && io.stdin) {
      const stdin = io.stdin;
      const onData = (d: Buffer) => {
        if (!stream.destroyed && stream.writable) stream.write(d);
      };
      // With a tty, Docker closes the attach's output as soon as its stdin closes, losing what the
      // command prints after that; so an EOF from the client is typed as ^D (as at a terminal) and
      // the attach stays open. Without a tty, the EOF closes the container's stdin.
      const onEnd = () => {
        if (stream.destroyed) return;
        if (io.tty) stream.write('\x04');
        else stream.end();
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      cleanups.push(() => {
        stdin.removeListener('data', onData);
        stdin.removeListener('end', onEnd);
      });
    }
    const onAbort = () => {
      aborted = true;
      container.kill().catch(() => {});
    };
    io.signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => io.signal?.removeEventListener('abort', onAbort));
    if (io.signal?.aborted) onAbort();

    const { StatusCode } = await exited;
    // let the last output frames arrive before returning (bounded: the socket may linger)
    await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000))]);
    stream.destroy();
    if (aborted) throw RuntimeErrors.cancelled('one-off container killed: the session ended');
    await ctx.afterExit?.(container, StatusCode);
    return StatusCode;
  } finally {
    for (const c of cleanups) c();
    await container.remove({ force: true }).catch(() => {});
  }
}
