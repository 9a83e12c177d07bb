import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { dataPaths } from '../../../src/config/server-config.js';
import { silentLogger } from '../../../src/log/logger.js';
import { ProxyClient } from '../../../src/proxy/control/proxy-client.js';
import type { EdgeLimits } from '../../../src/proxy/edge/edge-limits.js';
import { type ProxyHandle, startProxy } from '../../../src/proxy/proxy-server.js';
import type { UpstreamOptions } from '../../../src/proxy/edge/upstream-pools.js';

/** The flags of a `paas proxy` process on loopback (the hidden subcommand the control plane runs). */
export function proxyProcessArgs(o: { dataDir: string; httpPort: number; workers: number; logLevel: string }): string[] {
  return [
    ...['--data-dir', o.dataDir, '--http-port', String(o.httpPort), '--https-port', '0', '--listen', '127.0.0.1'],
    ...['--proxy-workers', String(o.workers), '--log-level', o.logLevel],
  ];
}

export interface TestProxy {
  handle: ProxyHandle;
  client: ProxyClient;
  dataDir: string;
  port: number;
  httpsPort: number;
  stop(): Promise<void>;
}

/** The proxy in this process (one worker), on free loopback ports, with a temp data dir. */
export async function startTestProxy(
  opts: {
    bodyLimit?: number;
    headersTimeoutMs?: number;
    upstream?: Partial<UpstreamOptions>;
    limits?: Partial<EdgeLimits>;
    trustedProxies?: string[];
  } = {},
): Promise<TestProxy> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'paas-proxy-test-'));
  const handle = await startProxy({
    dataDir,
    httpPort: 0,
    httpsPort: 0,
    listen: '127.0.0.1',
    workers: 1,
    logger: silentLogger(),
    bodyLimit: opts.bodyLimit,
    upstream: { ...(opts.headersTimeoutMs ? { headersTimeoutMs: opts.headersTimeoutMs } : {}), ...opts.upstream },
    limits: opts.limits,
    trustedProxies: opts.trustedProxies,
  });
  const s = handle.status();
  return {
    handle,
    client: new ProxyClient(dataPaths(dataDir).proxySocket),
    dataDir,
    port: s.httpPort,
    httpsPort: s.httpsPort,
    stop: async () => {
      await handle.close(1000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export function request(
  port: number,
  opts: {
    host?: string;
    path?: string;
    method?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    agent?: http.Agent | false;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.host) headers.host = opts.host;
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = http.request(
      { host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.once('error', reject);
    req.end(opts.body);
  });
}

/** Health check settings that keep tests fast. */
export const fastCheck = { path: '/up', intervalMs: 50, timeoutMs: 500 };
