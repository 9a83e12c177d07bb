import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Logger } from '../../log/logger.js';
import { holdConnections } from './held-connections.js';
import { proxyExecArgv } from './proxy-node-flags.js';
import type { ListenSockets } from './listen-sockets.js';
import { ProxyErrors } from '../proxy-errors.js';

/** What the control plane asks a running proxy to start as its successor. */
export interface HandoverRequest {
  /** the new build's entry point (dist/src/main.js, or src/main.ts under tsx) */
  main: string;
  /** node options of the new build (the tsx loader in tests) */
  execArgv: string[];
  /** `paas proxy` flags */
  args: string[];
}

type HandoverMessage =
  | { paasHandover: 'hello' }
  | { paasHandover: 'socket'; name: 'http' | 'https' | 'control' }
  | { paasHandover: 'done' }
  | { paasHandover: 'ready'; pid: number };

const isHandover = (m: unknown): m is HandoverMessage => typeof m === 'object' && m !== null && 'paasHandover' in m;

/**
 * The running proxy's side of an upgrade: starts the new build as its child (detached, so it
 * outlives this process) with an IPC channel, passes it the listening sockets and the control
 * socket, and resolves with its pid once it serves on them. Connections keep being accepted all
 * along: by this process until the successor is ready, by both for a moment, then by the successor.
 */
export function startSuccessor(
  req: HandoverRequest,
  sockets: ListenSockets,
  control: net.Server,
  log: Logger,
  timeoutMs = 30_000,
): Promise<number> {
  // the successor writes where this proxy writes (the proxy log the control plane opened for it)
  // the proxy's own node options even when the request lacks them (a control plane of an older build)
  const child = spawn(process.execPath, [...proxyExecArgv(req.execArgv), req.main, 'proxy', ...req.args, '--takeover'], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: process.env,
  });
  return new Promise<number>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(ProxyErrors.handoverFailed(`the new proxy did not take over: ${why}; see the proxy log`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    child.once('exit', (code, signal) => fail(`it exited (code ${code}, signal ${signal})`));
    child.once('error', (err) => fail(err.message));
    child.on('message', (m: unknown) => {
      if (!isHandover(m)) return;
      if (m.paasHandover === 'hello') {
        child.send({ paasHandover: 'socket', name: 'http' }, sockets.http);
        if (sockets.https) child.send({ paasHandover: 'socket', name: 'https' }, sockets.https);
        child.send({ paasHandover: 'socket', name: 'control' }, control);
        child.send({ paasHandover: 'done' });
      } else if (m.paasHandover === 'ready') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.disconnect();
        child.unref();
        log.info({ successor: m.pid }, 'proxy handed its sockets over');
        resolve(m.pid);
      }
    });
  });
}

/** What a successor received from the proxy it replaces. */
export interface InheritedSockets {
  listen: ListenSockets;
  control: net.Server;
}

/** The successor's side: asks for the sockets, receives them. */
export function receiveSockets(timeoutMs = 20_000): Promise<InheritedSockets> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(ProxyErrors.handoverFailed('--takeover needs the previous proxy as parent (no IPC channel)'));
      return;
    }
    const got: Partial<Record<'http' | 'https' | 'control', net.Server>> = {};
    const timer = setTimeout(() => reject(ProxyErrors.handoverFailed('no sockets from the previous proxy')), timeoutMs);
    const onMessage = (m: unknown, handle: unknown) => {
      if (!isHandover(m)) return;
      if (m.paasHandover === 'socket' && handle instanceof net.Server) {
        holdConnections(handle);
        got[m.name] = handle;
      }
      if (m.paasHandover !== 'done') return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (!got.http || !got.control) {
        reject(ProxyErrors.handoverFailed('the previous proxy sent no listening socket'));
        return;
      }
      resolve({ listen: { http: got.http, https: got.https ?? null }, control: got.control });
    };
    process.on('message', onMessage);
    process.send({ paasHandover: 'hello' });
  });
}

/** The successor serves: tells the previous proxy, which then stops accepting and drains. */
export function announceReady(): void {
  process.send?.({ paasHandover: 'ready', pid: process.pid });
}
