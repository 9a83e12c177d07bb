import type Dockerode from 'dockerode';
import type { Logger } from '../log/logger.js';
import { LABELS } from './container-naming.js';
import { errMessage } from './docker-error-details.js';
import { FrameParser, LineSplitter, type StdStream } from './docker-frames.js';

export interface LogStreamOptions {
  /** keep streaming new lines until aborted (`logs -t`) */
  follow?: boolean;
  /** lines of history per container; default 100 */
  tail?: number | 'all';
  /** only lines from this unix time (seconds) on */
  since?: number;
}

export interface LogLine {
  containerId: string;
  /** `web.1`, `worker.2`, `run.0`: process type and replica */
  prefix: string;
  stream: StdStream;
  line: string;
  /** RFC 3339 time Docker stamped the line with, or null */
  time: string | null;
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (.*)$/s;

/** Where the lines of one id come from, and the `process.replica` prefix they get. */
export type LogSource = (id: string) => Promise<{ prefix: string; logs(opts: Record<string, unknown>): Promise<unknown> }>;

/** A container's own logs (the default source), prefixed from its paas labels. */
export function containerLogSource(docker: Dockerode): LogSource {
  return async (id) => {
    const c = docker.getContainer(id);
    const lb = (await c.inspect()).Config.Labels ?? {};
    const prefix = lb[LABELS.process] ? `${lb[LABELS.process]}.${lb[LABELS.replica] ?? 0}` : id.slice(0, 12);
    return { prefix, logs: (opts) => c.logs(opts as unknown as Dockerode.ContainerLogsOptions & { follow: false }) };
  };
}

/**
 * Merged, line-by-line logs of several containers: an async iterable of LogLine.
 * Without `follow`, history is collected from every container, sorted by time, then the
 * iteration ends. With `follow`, lines are yielded as they come; `add()` attaches containers
 * started later (a new release), and the iteration ends when `close()` is called or the signal aborts.
 */
export class LogStream implements AsyncIterable<LogLine> {
  private readonly queue: LogLine[] = [];
  private readonly history: LogLine[] = [];
  private wake: (() => void) | null = null;
  private readonly streams = new Map<string, NodeJS.ReadableStream & { destroy?: () => void }>();
  private pending = 0;
  private closed = false;
  private closeOnDrain = false;

  private readonly source: LogSource;

  constructor(
    docker: Dockerode,
    private readonly log: Logger,
    private readonly opts: LogStreamOptions,
    signal?: AbortSignal,
    source?: LogSource,
  ) {
    this.source = source ?? containerLogSource(docker);
    signal?.addEventListener('abort', () => this.close(), { once: true });
    if (signal?.aborted) this.close();
  }

  /** Formats a line the way `paas logs` prints it: `<time> web.1: <text>`. */
  static format(l: LogLine, withTime = true): string {
    return withTime && l.time ? `${l.time} ${l.prefix}: ${l.line}` : `${l.prefix}: ${l.line}`;
  }

  /**
   * Attaches a container's logs (ignored if already attached or closed). A container started
   * after the stream opened (a new release while following) should pass `tail: 'all'` so its
   * first lines are not lost.
   */
  add(id: string, tail: number | 'all' = this.opts.tail ?? 100): void {
    if (this.closed || this.streams.has(id)) return;
    this.pending++;
    void this.attach(id, tail).finally(() => {
      this.pending--;
      this.maybeFinish();
    });
  }

  /** End the iteration once every attached container's stream has ended (non-follow mode). */
  closeWhenDrained(): void {
    this.closeOnDrain = true;
    this.maybeFinish();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy?.();
    this.streams.clear();
    this.notify();
  }

  private maybeFinish(): void {
    if (!this.closeOnDrain || this.pending > 0 || this.closed) return;
    // history mode: everything arrived, emit in time order (stable for equal times)
    const sorted = this.history.map((l, i) => ({ l, i })).sort((a, b) => cmpTime(a.l.time, b.l.time) || a.i - b.i);
    for (const { l } of sorted) this.queue.push(l);
    this.history.length = 0;
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private emit(l: LogLine): void {
    if (this.closed) return;
    if (this.opts.follow) {
      this.queue.push(l);
      this.notify();
    } else {
      this.history.push(l);
    }
  }

  private async attach(id: string, tail: number | 'all'): Promise<void> {
    try {
      const { prefix, logs } = await this.source(id);
      const opts = {
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: tail === 'all' ? 'all' : String(tail),
        ...(this.opts.since !== undefined ? { since: this.opts.since } : {}),
      };
      if (this.opts.follow) {
        const stream = (await logs({ ...opts, follow: true })) as NodeJS.ReadableStream & {
          destroy?: () => void;
        };
        if (this.closed) {
          stream.destroy?.();
          return;
        }
        this.streams.set(id, stream);
        await this.pump(id, prefix, stream);
      } else {
        const buf = (await logs({ ...opts, follow: false })) as Buffer;
        const { push, end } = this.parser(id, prefix);
        push(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
        end();
      }
    } catch (e) {
      this.log.debug({ id, err: errMessage(e) }, 'log stream unavailable');
    } finally {
      this.streams.delete(id);
    }
  }

  private parser(id: string, prefix: string) {
    const lines = new LineSplitter((stream, raw) => {
      const m = TS_RE.exec(raw);
      this.emit({ containerId: id, prefix, stream, line: m ? m[2]! : raw, time: m ? m[1]! : null });
    });
    const frames = new FrameParser((stream, data) => lines.push(stream, data));
    return {
      push: (b: Buffer) => frames.push(b),
      end: () => {
        frames.end();
        lines.end();
      },
    };
  }

  private pump(id: string, prefix: string, stream: NodeJS.ReadableStream): Promise<void> {
    const { push, end } = this.parser(id, prefix);
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        end();
        resolve();
      };
      stream.on('data', (b: Buffer) => push(b));
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogLine> {
    for (;;) {
      while (this.queue.length) yield this.queue.shift()!;
      if (this.closed) return;
      if (this.opts.follow && this.closeOnDrain && this.pending === 0) return;
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }
}

function cmpTime(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const ka = timeKey(a);
  const kb = timeKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Docker stamps UTC RFC 3339 with trailing zeros trimmed: pad the fraction so keys compare lexically. */
function timeKey(t: string): string {
  return t.replace(/(?:\.(\d+))?Z$/, (_m, frac: string | undefined) => `.${(frac ?? '').padEnd(9, '0')}Z`);
}
