import net, { type AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { CommandIo, Identity, PtyInfo } from '../contracts/command-io.js';
import { isAppError, userMessage } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { SshKeyRow } from '../state/ssh-keys-repository.js';
import { AuthLimiter } from './auth-limiter.js';
import { parseExecCommand } from './exec-parser.js';
import { fingerprintOf } from './public-key.js';

export type ExecHandler = (words: string[], identity: Identity, io: CommandIo) => Promise<number>;

export interface SshLimits {
  sessionsPerKey: number;
  authTimeoutMs: number;
  /** a connection with no open channel for this long is closed */
  idleTimeoutMs: number;
  failedAuthPerMinute: number;
  /** connections not authenticated yet, in all and from one address; more are closed at once */
  unauthenticated: number;
  unauthenticatedPerAddress: number;
  /** rejected key attempts on one connection before it is closed (OpenSSH's MaxAuthTries) */
  maxAuthTries: number;
}

export interface SshServerOptions {
  hostKey: Buffer;
  findKey(fingerprint: string): SshKeyRow | undefined;
  /** the key's identity, read again for every exec (null: the key was removed) */
  identify(fingerprint: string): Identity | null;
  handler: ExecHandler;
  log: Logger;
  limits?: Partial<SshLimits>;
}

const DEFAULT_LIMITS: SshLimits = {
  sessionsPerKey: 16,
  authTimeoutMs: 30_000,
  idleTimeoutMs: 10 * 60_000,
  failedAuthPerMinute: 20,
  unauthenticated: 64,
  unauthenticatedPerAddress: 8,
  maxAuthTries: 6,
};

/**
 * The embedded SSH server: public-key auth against the keys in the database, exec requests only.
 * Every exec runs through `handler` with the channel's streams and an AbortSignal that fires
 * when the client goes away.
 */
export class SshServer {
  private readonly server: ssh2.Server;
  private readonly limits: SshLimits;
  private readonly limiter: AuthLimiter;
  private readonly sessionsByKey = new Map<string, number>();
  private readonly clients = new Set<ssh2.Connection>();
  /** raw sockets are accepted here and handed to ssh2, so a client that never finishes the
   * handshake (ssh2 reports a connection only after the client's ident line) is cut off too */
  private readonly listener: net.Server;
  private readonly authTimers = new WeakMap<object, NodeJS.Timeout>();
  /** sockets not authenticated yet, per remote address (a socket leaves once its key is accepted) */
  private readonly pending = new Map<string, Set<object>>();
  private pendingTotal = 0;
  /** authenticated connections per key fingerprint, so removing a key closes them */
  private readonly byKey = new Map<string, Set<ssh2.Connection>>();

  constructor(private readonly opts: SshServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.limiter = new AuthLimiter(this.limits.failedAuthPerMinute);
    this.server = new ssh2.Server({ hostKeys: [opts.hostKey], ident: 'paas' }, (client, info) => this.onConnection(client, info));
    this.listener = net.createServer((socket) => {
      const address = socket.remoteAddress ?? '?';
      if (this.limiter.blocked(address)) return void socket.destroy();
      const mine = this.pending.get(address);
      if (this.pendingTotal >= this.limits.unauthenticated || (mine?.size ?? 0) >= this.limits.unauthenticatedPerAddress) {
        opts.log.warn({ remote: address, pending: this.pendingTotal }, 'ssh connection refused: too many unauthenticated connections');
        return void socket.destroy();
      }
      this.addPending(address, socket);
      const timer = setTimeout(() => socket.destroy(), this.limits.authTimeoutMs);
      this.authTimers.set(socket, timer);
      socket.once('close', () => {
        clearTimeout(timer);
        this.dropPending(address, socket);
      });
      this.server.injectSocket(socket);
    });
  }

  /** Closes every open connection of a key (it was removed). */
  disconnectKey(fingerprint: string): number {
    const conns = this.byKey.get(fingerprint);
    if (!conns) return 0;
    for (const c of conns) hangUp(c);
    return conns.size;
  }

  private addPending(address: string, socket: object): void {
    let set = this.pending.get(address);
    if (!set) {
      set = new Set();
      this.pending.set(address, set);
    }
    set.add(socket);
    this.pendingTotal++;
  }

  private dropPending(address: string, socket: object): void {
    const set = this.pending.get(address);
    if (!set?.delete(socket)) return;
    this.pendingTotal--;
    if (set.size === 0) this.pending.delete(address);
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, host, () => {
        this.listener.off('error', reject);
        resolve((this.listener.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const c of this.clients) hangUp(c);
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }

  private onConnection(client: ssh2.Connection, info: ssh2.ClientInfo): void {
    const address = info.ip;
    const log = this.opts.log.child({ remote: address });
    this.clients.add(client);
    if (this.limiter.blocked(address)) {
      log.warn('ssh connection refused: too many failed authentications');
      hangUp(client);
      return;
    }
    let key: SshKeyRow | undefined;
    let attempted = false;
    let rejected = 0;
    let openChannels = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      if (openChannels === 0) idleTimer = setTimeout(() => hangUp(client), key ? this.limits.idleTimeoutMs : this.limits.authTimeoutMs);
    };
    armIdle();
    client.on('error', (err) => log.debug({ err }, 'ssh client error'));
    // commands of this connection: a dropped TCP connection aborts them all (channels of a dead
    // connection do not always emit 'close')
    const running = new Set<AbortController>();
    client.on('close', () => {
      for (const ac of running) ac.abort();
      clearTimeout(idleTimer);
      this.clients.delete(client);
      if (key) this.byKey.get(key.fingerprint)?.delete(client);
      if (!key && attempted) this.limiter.fail(address);
    });

    client.on('authentication', (ctx) => {
      if (ctx.method === 'none') return ctx.reject(['publickey']); // clients ask which methods exist first
      if (rejected >= this.limits.maxAuthTries) return ctx.reject([]); // cut off already; nothing more is looked up
      attempted = true;
      const reject = () => {
        ctx.reject(['publickey']);
        if (++rejected >= this.limits.maxAuthTries) {
          log.warn({ attempts: rejected }, 'ssh connection closed: too many authentication attempts');
          hangUp(client);
        }
      };
      if (ctx.method !== 'publickey') return reject();
      const row = this.opts.findKey(fingerprintOf(ctx.key.data));
      if (!row) return reject();
      if (!ctx.signature) return ctx.accept(); // the client asks whether this key would do
      const pub = ssh2.utils.parseKey(row.public_key);
      if (pub instanceof Error || Array.isArray(pub) || pub.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return reject();
      key = row;
      ctx.accept();
    });

    client.on('ready', () => {
      const sock = (client as unknown as { _sock?: object })._sock;
      if (sock) {
        clearTimeout(this.authTimers.get(sock));
        this.dropPending(address, sock);
      }
      const fingerprint = key!.fingerprint;
      const conns = this.byKey.get(fingerprint) ?? new Set();
      conns.add(client);
      this.byKey.set(fingerprint, conns);
      log.info({ key: key!.name }, 'ssh session authenticated');
      armIdle();
      client.on('request', (_accept, reject) => reject?.()); // tcpip-forward and friends
      client.on('tcpip', (_accept, reject) => reject());
      client.on('openssh.streamlocal', (_accept, reject) => reject());
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        openChannels++;
        clearTimeout(idleTimer);
        let pty: { cols: number; rows: number; term: string } | null = null;
        const resizeListeners: ((c: number, r: number) => void)[] = [];
        session.on('close', () => {
          openChannels--;
          armIdle();
        });
        session.on('pty', (accept, _reject, p) => {
          pty = { cols: p.cols, rows: p.rows, term: p.term };
          accept?.();
        });
        session.on('window-change', (accept, _reject, w) => {
          accept?.();
          for (const fn of resizeListeners) fn(w.cols, w.rows);
        });
        session.on('env', (_accept, reject) => reject?.());
        session.on('x11', (_accept, reject) => reject?.());
        session.on('auth-agent', (_accept, reject) => reject?.());
        session.on('signal', (accept) => accept?.());
        session.on('sftp', (_accept, reject) => reject());
        session.on('subsystem', (_accept, reject) => reject());
        session.on('shell', (accept) => {
          const ch = accept();
          ch.stderr.write(`Hi ${key!.name}! paas gives no shell. Try: ssh -p <port> paas@<host> help\r\n`);
          ch.exit(1);
          ch.end();
        });
        session.on('exec', (accept, _reject, req) => {
          const channel = accept();
          const ptyInfo: PtyInfo | null = pty && { ...pty, onResize: (fn) => resizeListeners.push(fn) };
          // the key is checked again for every command: a removed key or a revoked grant bites at once
          const identity = this.opts.identify(fingerprint);
          if (!identity) {
            channel.stderr.write(`error: key '${key!.name}' is no longer registered\n`);
            this.finish(channel, 1);
            hangUp(client);
            return;
          }
          void this.runExec(channel, req.command, identity, ptyInfo, log, running);
        });
      });
    });
  }

  private async runExec(
    channel: ssh2.ServerChannel,
    command: string,
    identity: Identity,
    pty: PtyInfo | null,
    log: Logger,
    running: Set<AbortController>,
  ): Promise<void> {
    const ac = new AbortController();
    running.add(ac);
    ac.signal.addEventListener('abort', () => running.delete(ac), { once: true });
    channel.on('close', () => ac.abort());
    const active = this.sessionsByKey.get(identity.keyName) ?? 0;
    let code = 1;
    if (active >= this.limits.sessionsPerKey) {
      channel.stderr.write(`error: too many concurrent sessions for key '${identity.keyName}' (limit ${this.limits.sessionsPerKey})\n`);
      return this.finish(channel, 1);
    }
    this.sessionsByKey.set(identity.keyName, active + 1);
    try {
      const words = parseExecCommand(command);
      code = await this.opts.handler(words, identity, { stdin: channel, stdout: channel, stderr: channel.stderr, signal: ac.signal, pty });
    } catch (err) {
      code = isAppError(err) ? err.exitCode : 1;
      if (!isAppError(err)) log.error({ err }, 'ssh exec failed');
      channel.stderr.write(`error: ${userMessage(err)}\n`);
    } finally {
      const n = (this.sessionsByKey.get(identity.keyName) ?? 1) - 1;
      if (n <= 0) this.sessionsByKey.delete(identity.keyName);
      else this.sessionsByKey.set(identity.keyName, n);
    }
    running.delete(ac);
    this.finish(channel, code);
  }

  private finish(channel: ssh2.ServerChannel, code: number): void {
    if (channel.destroyed) return;
    try {
      channel.exit(code);
    } catch {
      // channel already closing
    }
    channel.end();
  }
}

/**
 * Ends a connection for sure: ssh2's end() sends a disconnect and half-closes the socket, which a
 * client that never answers (a stalled or hostile one) would keep open; the socket is then destroyed.
 */
function hangUp(client: ssh2.Connection): void {
  client.end();
  const sock = (client as unknown as { _sock?: { destroy(): void } })._sock;
  setTimeout(() => sock?.destroy(), 200).unref();
}
