import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './wait.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A real Prometheus (Debian's `prometheus`) scraping `target` (host:port) every second, in `dir`. */
export class Prometheus {
  private child: ChildProcess | null = null;
  port = 0;

  constructor(
    private readonly dir: string,
    private readonly target: string,
  ) {}

  async start(): Promise<this> {
    fs.mkdirSync(path.join(this.dir, 'data'), { recursive: true });
    const config = path.join(this.dir, 'prometheus.yml');
    fs.writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: paas\n    static_configs:\n      - targets: ['${this.target}']\n`,
    );
    this.port = await freePort();
    const log = fs.openSync(path.join(this.dir, 'prometheus.log'), 'a');
    this.child = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(this.dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    await waitFor('prometheus ready', async () => (await fetch(`http://127.0.0.1:${this.port}/-/ready`)).ok, 30_000, 100);
    return this;
  }

  /** An instant PromQL query: the vector's samples as [labels, value]. */
  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const r = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await r.json()) as {
      status: string;
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${JSON.stringify(body)}`);
    return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  log(): string {
    const f = path.join(this.dir, 'prometheus.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').slice(-4000) : '';
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
