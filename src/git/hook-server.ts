import type net from 'node:net';
import { Writable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import { jsonLine, LineSplitter } from '../util/json-lines.js';
import { UnixSocketServer } from '../util/unix-socket-server.js';
import type { HookReply, HookRequest } from './hook-protocol.js';

/** What a push session registers so the hook's callback can find it. */
export interface PushSession {
  app: string;
  repoDir: string;
  signal: AbortSignal;
  /** the SSH key that pushes (for the audit trail) */
  keyName: string;
}

export type PushHandler = (session: PushSession, req: HookRequest, out: Writable) => Promise<number>;

/**
 * The daemon's end of the pre-receive hook: a unix socket (mode 600) that accepts one request
 * per connection, finds the push session by its one-time token, and streams the handler's
 * output back, ending with its exit code.
 */
export class HookServer extends UnixSocketServer {
  private readonly sessions = new Map<string, PushSession>();

  constructor(
    socketPath: string,
    private readonly handler: PushHandler,
    private readonly log: Logger,
  ) {
    super(socketPath);
  }

  register(token: string, session: PushSession): () => void {
    this.sessions.set(token, session);
    return () => this.sessions.delete(token);
  }

  protected onConnection(conn: net.Socket): void {
    const lines = new LineSplitter();
    conn.setEncoding('utf8');
    const reply = (m: HookReply) => {
      if (!conn.destroyed) conn.write(jsonLine(m));
    };
    const onData = (d: string) => {
      const [first] = lines.push(d);
      if (first === undefined) return;
      conn.off('data', onData);
      let req: HookRequest;
      try {
        req = JSON.parse(first);
      } catch {
        reply({ o: 'paas: malformed hook request\n' });
        reply({ exit: 1 });
        return void conn.end();
      }
      const session = this.sessions.get(req.token);
      if (!session) {
        reply({ o: 'paas: unknown push session\n' });
        reply({ exit: 1 });
        return void conn.end();
      }
      const out = new Writable({
        write(chunk, _enc, cb) {
          reply({ o: chunk.toString() });
          cb();
        },
      });
      this.handler(session, req, out)
        .catch((err) => {
          this.log.error({ err, app: session.app }, 'push handler failed');
          reply({ o: `paas: internal error: ${(err as Error).message}\n` });
          return 1;
        })
        .then((code) => {
          reply({ exit: code });
          conn.end();
        });
    };
    conn.on('data', onData);
    conn.on('error', () => {});
  }
}
