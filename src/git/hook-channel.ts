import type { Duplex, Readable, Writable } from 'node:stream';
import { Writable as WritableStream } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { type HookRequest, parseHookRequest, REQUEST_FIELDS } from './hook-protocol.js';

/** What the push runs on: the app, its repo and the SSH session's abort signal. */
export interface PushSession {
  app: string;
  repoDir: string;
  signal: AbortSignal;
  /** the SSH key that pushes (for the audit trail) */
  keyName: string;
}

export type PushHandler = (session: PushSession, req: HookRequest, out: Writable) => Promise<number>;

/** A hook request larger than this is refused (about 40,000 ref updates). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * The daemon's end of one push's pre-receive hook (hook-script.ts). `git receive-pack` is
 * started with a socket on fd 3 and a pipe on fd 4, which its hook inherits: only that one git
 * session's processes hold them, so there is no socket path to guard and no token to check.
 * The hook's request arrives on `channel`; the handler's output goes back on it, and its exit
 * code on `verdict`. `close()` (after git exits) drops both, whether or not a hook ran.
 */
export class HookChannel {
  /** settles once the handler (if the hook ran) has finished */
  readonly settled: Promise<void>;
  private handling: Promise<void> = Promise.resolve();
  private resolveSettled!: () => void;

  constructor(
    private readonly channel: Duplex,
    private readonly verdict: Writable,
    private readonly session: PushSession,
    private readonly handler: PushHandler,
    private readonly log: Logger,
  ) {
    this.settled = new Promise((r) => (this.resolveSettled = r));
    channel.on('error', () => {});
    verdict.on('error', () => {});
    this.readRequest(channel);
  }

  /** git has exited: once a running handler finishes, both descriptors go (a detached `git gc` may still hold the child's copies). */
  close(): void {
    void this.handling.finally(() => {
      this.channel.destroy();
      this.verdict.destroy();
      this.resolveSettled();
    });
  }

  private readRequest(input: Readable): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let nuls = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      for (const byte of chunk) if (byte === 0) nuls++;
      if (nuls < REQUEST_FIELDS && size <= MAX_REQUEST_BYTES) return;
      input.off('data', onData);
      const fields = Buffer.concat(chunks).toString('utf8').split('\0').slice(0, REQUEST_FIELDS);
      const req = size <= MAX_REQUEST_BYTES ? parseHookRequest(fields) : null;
      this.handling = req ? this.handle(req) : this.finish('paas: malformed hook request\n', 1);
    };
    input.on('data', onData);
  }

  private async handle(req: HookRequest): Promise<void> {
    const channel = this.channel;
    // each chunk goes into the socket at once, in order, so every line written before the handler
    // returns is ahead of the end (a write that waited for its flush could land after it)
    const out = new WritableStream({
      write(chunk: Buffer, _enc, cb) {
        if (!channel.destroyed) channel.write(chunk);
        cb();
      },
    });
    let code: number;
    try {
      code = await this.handler(this.session, req, out);
    } catch (err) {
      this.log.error({ err, app: this.session.app }, 'push handler failed');
      return this.finish(`paas: internal error: ${(err as Error).message}\n`, 1);
    }
    return this.finish('', code);
  }

  private finish(text: string, code: number): Promise<void> {
    if (this.channel.destroyed || this.verdict.destroyed) return Promise.resolve();
    this.channel.end(text);
    return new Promise((resolve) => this.verdict.end(`${code}\n`, () => resolve()));
  }
}
