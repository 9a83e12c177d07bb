import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { Logger } from '../../log/logger.js';
import type { RegistryEndpoint, RegistryFiles } from './registry-files.js';
import { RegistryErrors } from './registry-errors.js';

export interface RegistrySupervisorOptions {
  files: RegistryFiles;
  logsDir: string;
  /** the program: Debian's docker-registry (the CNCF distribution server) */
  binary?: string;
  log: Logger;
}

/**
 * Runs `docker-registry serve <config>` as a child of the control plane and starts it again when
 * it exits (after 1 s, doubling up to 30 s while it keeps dying within a minute), as the proxy
 * supervisor keeps the proxy: the registry serves only while a control plane runs, which is
 * when releases are pushed; the nodes' engines pull from it when a task starts.
 */
export class RegistrySupervisor {
  private child: ChildProcess | null = null;
  private enabled = false;
  private stopping = false;
  private backoffMs = 1000;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: RegistrySupervisorOptions) {}

  /** Supervision on: starts the registry now if cluster:init prepared it (the server calls this). */
  enable(): void {
    this.enabled = true;
    if (this.o.files.endpoint()) this.spawn();
  }

  /** After cluster:init prepared it: (re)start it with the new config and wait until it answers. */
  async restart(endpoint: RegistryEndpoint): Promise<boolean> {
    if (!this.enabled) return false;
    await this.kill();
    this.stopping = false;
    this.spawn();
    await this.waitReady(endpoint, 10_000);
    return true;
  }

  /** Starts it when it does not run (cluster:init again): true once it answers, false in `paas admin`. */
  async ensure(endpoint: RegistryEndpoint): Promise<boolean> {
    if (!this.enabled) return false;
    this.stopping = false;
    this.spawn();
    await this.waitReady(endpoint, 10_000);
    return true;
  }

  private spawn(): void {
    if (this.child || this.stopping) return;
    const logFile = path.join(this.o.logsDir, 'registry.log');
    fs.mkdirSync(this.o.logsDir, { recursive: true });
    const fd = fs.openSync(logFile, 'a');
    const started = Date.now();
    const child = spawn(this.o.binary ?? 'docker-registry', ['serve', this.o.files.configFile], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.child = child;
    child.once('error', (err) =>
      this.o.log.error({ err: err.message }, 'cannot start docker-registry (is the docker-registry package installed?)'),
    );
    child.once('exit', (code, signal) => {
      this.child = null;
      if (this.stopping || !this.enabled) return;
      this.backoffMs = Date.now() - started > 60_000 ? 1000 : Math.min(this.backoffMs * 2, 30_000);
      this.o.log.warn({ code, signal, restartInMs: this.backoffMs, logFile }, 'registry exited; starting it again');
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        this.spawn();
      }, this.backoffMs);
    });
    this.o.log.info({ pid: child.pid }, 'registry started');
  }

  /** The pid of the running registry (tests kill it to see it come back). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves once GET /v2/ answers over TLS (401 without a login means it serves). */
  async waitReady(endpoint: RegistryEndpoint, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const status = await probe(endpoint);
        if (status === 200 || status === 401) return;
        last = `HTTP ${status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw RegistryErrors.unavailable(
      `the registry on ${endpoint.address} did not answer (${last}); see its log in ${this.o.logsDir}/registry.log`,
    );
  }

  private kill(): Promise<void> {
    const child = this.child;
    if (!child) return Promise.resolve();
    this.stopping = true;
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    this.enabled = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.kill();
  }
}

/** GET https://<address>/v2/ trusting only paas's CA: the status code. */
export function probe(endpoint: RegistryEndpoint, auth?: boolean): Promise<number> {
  const [host, port] = [
    endpoint.address.slice(0, endpoint.address.lastIndexOf(':')),
    endpoint.address.slice(endpoint.address.lastIndexOf(':') + 1),
  ];
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: host.replace(/^\[(.*)\]$/, '$1'),
        port: Number(port),
        path: '/v2/',
        ca: endpoint.caPem,
        timeout: 2000,
        ...(auth ? { auth: `${endpoint.username}:${endpoint.password}` } : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
  });
}
