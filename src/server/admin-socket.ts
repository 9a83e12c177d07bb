import fs from 'node:fs';
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { CommandHost } from '../plugin-host/command-host.js';
import { jsonLine, LineSplitter } from '../util/json-lines.js';
import { UnixSocketServer } from '../util/unix-socket-server.js';
import { HOST_ADMIN } from '../contracts/command-io.js';

/**
 * `paas admin` requests, one per connection, as JSON lines: the client sends `{ words }`, then
 * its stdin as `{ i }` chunks (base64) and `{ ie: true }` at its end; the daemon answers with
 * `{ o }` / `{ e }` (base64 output chunks) and finally `{ exit }`.
 */
export type AdminRequest = { words: string[] };
export type AdminInput = { i: string } | { ie: true };
export type AdminReply = { o: string } | { e: string } | { exit: number };

/**
 * The daemon's side of `paas admin`: commands run in the daemon, so they share its app locks
 * (an admin scale waits for a running push) and its configuration. A unix socket, mode 600:
 * only root on the host reaches it.
 */
export class AdminSocketServer extends UnixSocketServer {
  constructor(
    socketPath: string,
    private readonly host: CommandHost,
    private readonly log: Logger,
  ) {
    super(socketPath);
  }

  protected onConnection(conn: net.Socket): void {
    const lines = new LineSplitter();
    const ac = new AbortController();
    conn.on('close', () => ac.abort());
    conn.on('error', () => ac.abort());
    const send = (m: AdminReply) => {
      if (!conn.destroyed) conn.write(jsonLine(m));
    };
    const channel = (key: 'o' | 'e') =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          send({ [key]: Buffer.from(chunk).toString('base64') } as AdminReply);
          cb();
        },
      });
    const stdin = new PassThrough();
    let started = false;
    const onLine = (line: string) => {
      if (started) {
        const m = JSON.parse(line) as AdminInput;
        if ('i' in m) stdin.write(Buffer.from(m.i, 'base64'));
        else stdin.end();
        return;
      }
      started = true;
      const req = JSON.parse(line) as AdminRequest;
      this.host
        .run(req.words, HOST_ADMIN, { stdin, stdout: channel('o'), stderr: channel('e'), signal: ac.signal, pty: null })
        .catch((err) => {
          this.log.error({ err }, 'admin command failed');
          return 1;
        })
        .then((code) => {
          send({ exit: code });
          conn.end();
        });
    };
    const onData = (d: Buffer) => {
      for (const line of lines.push(d)) {
        try {
          onLine(line);
        } catch {
          send({ e: Buffer.from('error: malformed admin request\n').toString('base64') });
          send({ exit: 2 });
          conn.off('data', onData);
          conn.end();
          return;
        }
      }
    };
    conn.on('data', onData);
  }
}

/**
 * The client side: forwards one command to a running daemon. Resolves to null when no daemon
 * listens on `socketPath` (the caller then runs the command in its own process).
 */
export function forwardAdminCommand(
  socketPath: string,
  words: string[],
  stdin: NodeJS.ReadableStream,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number | null> {
  return new Promise((resolve) => {
    if (!fs.existsSync(socketPath)) return resolve(null);
    let connected = false;
    let exit: number | null = null;
    const lines = new LineSplitter();
    const conn = net.connect(socketPath, () => {
      connected = true;
      conn.write(jsonLine({ words } satisfies AdminRequest));
      const frame = (m: AdminInput) => !conn.destroyed && conn.write(jsonLine(m));
      stdin.on('data', (c: Buffer) => frame({ i: Buffer.from(c).toString('base64') }));
      stdin.on('end', () => frame({ ie: true }));
    });
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      for (const line of lines.push(d)) {
        const m = JSON.parse(line) as AdminReply;
        if ('o' in m) out.write(Buffer.from(m.o, 'base64'));
        else if ('e' in m) err.write(Buffer.from(m.e, 'base64'));
        else exit = m.exit;
      }
    });
    conn.on('error', () => {
      if (!connected) resolve(null);
    });
    conn.on('close', () => {
      // the command is over: stop reading stdin, or a writer that never closes it keeps us alive
      (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      if (connected) resolve(exit ?? 1);
    });
    process.once('SIGINT', () => conn.destroy());
  });
}
