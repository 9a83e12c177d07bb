import http from 'node:http';

export interface LoadReport {
  requests: number;
  statuses: Record<number, number>;
  errors: Record<string, number>;
  non2xx: number;
}

/**
 * `clients` loops of GET requests without pause through the proxy with a Host header, keep-alive
 * (or a new connection per request), until stop() or `maxMs`. Counts statuses and socket errors.
 */
export function startLoad(opts: { port: number; host: string; path?: string; clients?: number; keepAlive?: boolean; maxMs?: number }) {
  const report: LoadReport = { requests: 0, statuses: {}, errors: {}, non2xx: 0 };
  const agent = new http.Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: opts.clients ?? 8 });
  let running = true;
  const deadline = Date.now() + (opts.maxMs ?? 300_000);
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.get(
        { host: '127.0.0.1', port: opts.port, path: opts.path ?? '/', headers: { host: opts.host }, agent, timeout: 30_000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            report.requests++;
            const s = res.statusCode ?? 0;
            report.statuses[s] = (report.statuses[s] ?? 0) + 1;
            if (s < 200 || s > 299) report.non2xx++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => {
        report.requests++;
        const k = e.code ?? e.message;
        report.errors[k] = (report.errors[k] ?? 0) + 1;
        resolve();
      });
    });
  const loops = Array.from({ length: opts.clients ?? 8 }, async () => {
    while (running && Date.now() < deadline) await one();
  });
  return {
    report,
    /** Resolves once `n` more requests have completed (any outcome); rejects after `ms` or when the load stopped. */
    async more(n: number, ms = 120_000): Promise<void> {
      const target = report.requests + n;
      const until = Date.now() + ms;
      while (report.requests < target) {
        if (!running || Date.now() > until) throw new Error(`load: ${report.requests}/${target} requests after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop(): Promise<LoadReport> {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return report;
    },
  };
}
