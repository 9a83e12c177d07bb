import { type Duplex, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import { FrameParser } from './docker-frames.js';
import type { TerminalSize } from './one-off-runner.js';
import { RuntimeErrors } from './runtime-errors.js';

export interface ExecIo {
  /** streamed into the command's stdin (its end closes it); absent: no stdin */
  stdin?: NodeJS.ReadableStream | null;
  /** the command's stdout, with backpressure (a slow SSH client slows the command, nothing piles up) */
  stdout?: Writable | null;
  /** end `stdout` when the command's output ends, and wait until it has flushed (a file); default false (an SSH channel) */
  endStdout?: boolean;
  /** the command's stderr as it comes (besides the tail kept in the result) */
  stderr?: Writable | null;
  /** a pty: stdin is raw keystrokes, output is merged on stdout */
  tty?: { size: TerminalSize; onResize(listener: (s: TerminalSize) => void): void } | null;
  env?: string[];
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  /** the last 4 KiB of stderr (the reason a dump or a check failed) */
  stderr: string;
  /** stdout when no `stdout` stream was given (small outputs: versions, sizes), at most 64 KiB */
  output: string;
}

const KEEP_STDERR = 4096;
const KEEP_OUTPUT = 65536;

/**
 * Runs a command in a running container (`docker exec`), streaming stdin in and stdout out
 * without holding either in memory. Used by add-ons for dumps, restores, checks and `connect`.
 */
export async function execIn(container: Dockerode.Container, argv: string[], io: ExecIo = {}): Promise<ExecResult> {
  const withStdin = io.stdin != null;
  const tty = io.tty ?? null;
  let exec: Dockerode.Exec;
  try {
    exec = await container.exec({
      Cmd: argv,
      AttachStdin: withStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: tty !== null,
      Env: io.env,
    });
  } catch (e) {
    throw RuntimeErrors.docker(`cannot run ${argv[0]} in ${container.id.slice(0, 12)}: ${(e as Error).message}`, e);
  }
  const stream = (await exec.start({ hijack: true, stdin: withStdin, Tty: tty !== null })) as Duplex;
  let stderr = '';
  let output = '';
  const keepStderr = (d: Buffer) => {
    io.stderr?.write(d);
    stderr = (stderr + d.toString('utf8')).slice(-KEEP_STDERR);
  };
  const onAbort = () => stream.destroy();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (tty) {
      const resize = (s: TerminalSize) => {
        if (s.rows > 0 && s.cols > 0) exec.resize({ h: s.rows, w: s.cols }).catch(() => {});
      };
      resize(tty.size);
      tty.onResize(resize);
    }
    const input = withStdin ? feedStdin(io.stdin!, stream, tty !== null) : Promise.resolve();
    const demux = new DemuxStdout(tty !== null, keepStderr);
    const sink: Writable =
      io.stdout ??
      new Writable({
        write(chunk: Buffer, _e, cb) {
          if (output.length < KEEP_OUTPUT) output += chunk.toString('utf8');
          cb();
        },
      });
    // an SSH channel is not ended here: the command host closes it after the exit status
    await pipeline(stream, demux, sink, { end: io.stdout == null || io.endStdout === true }).catch((e: unknown) => {
      if (!io.signal?.aborted) throw e;
    });
    await input.catch(() => {});
    if (io.signal?.aborted) throw RuntimeErrors.cancelled(`${argv[0]} cancelled: the session ended`);
    const { ExitCode } = await exec.inspect();
    return { exitCode: ExitCode ?? 1, stderr, output };
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}

/** Copies the client's stdin into the exec; its end half-closes the connection (the command reads EOF). */
function feedStdin(stdin: NodeJS.ReadableStream, stream: Duplex, tty: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    stdin.on('data', (d: Buffer) => {
      if (stream.destroyed) return;
      if (!stream.write(d)) {
        stdin.pause();
        stream.once('drain', () => stdin.resume());
      }
    });
    stdin.on('end', () => {
      // at a terminal ^D ends the input; a tty exec would lose its last output on a half-close
      if (tty) stream.write('\x04');
      else if (!stream.destroyed) stream.end();
      resolve();
    });
    stdin.on('error', reject);
    stdin.resume();
  });
}

/** Docker's multiplexed frames to plain stdout bytes; stderr goes to a callback. A tty exec is raw already. */
class DemuxStdout extends Transform {
  private readonly frames: FrameParser | null;
  constructor(raw: boolean, onStderr: (d: Buffer) => void) {
    super();
    this.frames = raw ? null : new FrameParser((s, d) => (s === 'stderr' ? onStderr(d) : this.push(d)));
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    if (this.frames) this.frames.push(chunk);
    else this.push(chunk);
    cb();
  }
  override _flush(cb: () => void): void {
    this.frames?.end();
    cb();
  }
}
