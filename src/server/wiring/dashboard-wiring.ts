import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { ControlPlaneKnobs } from '../../config/env-knobs.js';
import type { DataPaths, ServerConfig } from '../../config/server-config.js';
import { CommandRunner, type CommandRunnerHost } from '../../dashboard/command-runner.js';
import { DashboardRoute } from '../../dashboard/dashboard-route.js';
import { DashboardServer } from '../../dashboard/dashboard-server.js';
import { DashboardService } from '../../dashboard/dashboard-service.js';
import { DeployHub } from '../../dashboard/deploy-hub.js';
import { HistorySampler } from '../../dashboard/history-sampler.js';
import { hostReport } from '../../dashboard/host-report.js';
import { MetricsHistory } from '../../dashboard/metrics-history.js';
import { DASHBOARD_COMMANDS } from '../../dashboard/run-allowlist.js';
import { allowlistRefusal } from '../../plugin-host/command-allowlist.js';
import { SessionStreams } from '../../dashboard/session-streams.js';
import type { ProxyPort } from '../../deploy/adapter-interfaces.js';
import type { TlsSync } from '../../https/tls-sync.js';
import type { Logger } from '../../log/logger.js';
import type { ProxyFiguresSource } from '../../metrics/metrics-endpoint.js';
import type { CommandCatalog } from '../../plugin-host/plugin.js';
import type { AppHosts } from '../../services/app-hosts.js';
import type { KeyService } from '../../services/key-service.js';
import { DashboardLoginsRepository } from '../../state/dashboard-logins-repository.js';
import { DashboardSessionsRepository } from '../../state/dashboard-sessions-repository.js';
import type { State } from '../../state/state.js';
import { writeJsonAtomic } from '../../util/atomic-json.js';
import { packageRoot } from '../../util/package-info.js';
import type { DeployBundle } from './deploy-wiring.js';
import type { MetricsBundle } from './metrics-wiring.js';

export interface DashboardWiringInput {
  config: ServerConfig;
  paths: DataPaths;
  state: State;
  proxy: ProxyPort & ProxyFiguresSource;
  tls: TlsSync;
  hosts: Pick<AppHosts, 'globalDomain' | 'defaultHostOf'>;
  keys: Pick<KeyService, 'identify'>;
  /** told each removed key's fingerprint (the SSH server's set) */
  keyRemoved: Set<(fingerprint: string) => void>;
  metrics: MetricsBundle;
  pipeline: Pick<DeployBundle, 'buildSlots'>;
  /** the Swarm nodes (throws without a cluster) */
  nodes: () => Promise<unknown[]>;
  knobs: ControlPlaneKnobs;
  log: Logger;
}

export interface DashboardBundle {
  service: DashboardService;
  /** runs a push with its output teed into the app's live deploy log */
  teePush(app: string, out: Writable, push: (out: Writable) => Promise<number>): Promise<number>;
  /** `paas server` only: the loopback listener (routed by the proxy) and the chart history sampler; resolves to what stops them */
  start(host: CommandRunnerHost, commands: CommandCatalog, proxyHttpsPort: number, signal: AbortSignal): Promise<() => Promise<void>>;
}

/** The web dashboard: its access (login links, sessions), its listener, the live deploy log and the chart history. */
export function wireDashboard(d: DashboardWiringInput): DashboardBundle {
  const log = d.log.child({ module: 'dashboard' });
  const streams = new SessionStreams();
  const hub = new DeployHub();
  const history = new MetricsHistory();
  // the configured port, until the server tells the one its proxy listens on (--https-port 0: a free one)
  let httpsPort = d.config.httpsPort;
  const route = new DashboardRoute({ proxy: d.proxy, settings: () => service.settings(), syncTls: () => d.tls.sync(), log });
  const service: DashboardService = new DashboardService({
    logins: new DashboardLoginsRepository(d.state.db),
    sessions: new DashboardSessionsRepository(d.state.db),
    keys: d.state.keys,
    identify: (fp) => d.keys.identify(fp),
    settings: d.state.settings,
    globalDomain: () => d.hosts.globalDomain(),
    hostOwner: (host) => d.state.domains.owner(host) ?? d.hosts.defaultHostOf(host),
    httpsPort: () => httpsPort,
    applyRoute: () => route.apply(),
    onEnded: (ids) => streams.endSessions(ids),
    loginTtlMs: d.knobs.dashboardLoginTtlMs,
  });
  d.tls.serveAlso(() => {
    const s = service.settings();
    return s.enabled ? [s.host] : [];
  });
  // the key's sessions went with it (ON DELETE CASCADE); its open streams end now
  d.keyRemoved.add((fp) => streams.endKey(fp));
  const historyFile = path.join(d.config.dataDir, 'dashboard-history.json');

  return {
    service,
    teePush: (app, out, push) =>
      hub.tee(app, out, push, (code, last) => {
        if (code !== 0) return { type: 'done', ok: false, error: last.replace(/^[\s!>-]+/, '') || `push failed (exit ${code})` };
        const current = d.state.releases.current(app);
        return { type: 'done', ok: true, release: current ? `v${current.version}` : null };
      }),
    async start(host, commands, proxyHttpsPort, signal) {
      httpsPort = proxyHttpsPort;
      try {
        history.load(JSON.parse(fs.readFileSync(historyFile, 'utf8')));
      } catch {
        // no history yet, or unreadable: start empty
      }
      const sampler = new HistorySampler(
        {
          figures: () => d.proxy.figures(),
          usage: async () => {
            await d.metrics.sampler.sample();
            return d.metrics.sampler.byProcess().map((p) => ({ app: p.app, cpuSeconds: p.cpuSeconds, memoryBytes: p.memoryBytes }));
          },
          restarts: () => d.metrics.events.restarts,
          apps: () => d.state.apps.list().map((a) => a.name),
        },
        history,
      );
      let ticks = 0;
      const save = () => {
        try {
          writeJsonAtomic(historyFile, history.toJSON());
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'saving the chart history failed');
        }
      };
      const timer = setInterval(() => {
        void sampler.tick().then(
          () => {
            if (++ticks % 10 === 0) save();
          },
          (err) => log.warn({ err: (err as Error).message }, 'chart history sample failed'),
        );
      }, d.knobs.dashboardSampleMs);
      timer.unref();
      const server = new DashboardServer({
        app: {
          access: service,
          runner: new CommandRunner(host),
          gate: (argv) => allowlistRefusal(argv, commands, DASHBOARD_COMMANDS),
          appNames: () => d.state.apps.list().map((a) => a.name),
          hub,
          history,
          hostReport: () =>
            hostReport({
              dataDir: d.config.dataDir,
              buildQueue: () => d.pipeline.buildSlots.status(),
              certificates: () => d.state.certificates.all(),
              addons: () => d.state.addons.list(),
              nodes: () => d.nodes().catch(() => null),
            }),
          streams,
          httpsPort: proxyHttpsPort,
          log,
        },
        route,
        webDir: path.join(packageRoot(), 'web', 'dashboard'),
        vendorDir: path.join(packageRoot(), 'node_modules', 'uplot', 'dist'),
        cacheDir: path.join(d.paths.run, 'dashboard-assets'),
        port: 0,
        log,
      });
      await server.start();
      const stop = async () => {
        clearInterval(timer);
        save();
        await server.close();
      };
      signal.addEventListener('abort', () => void stop(), { once: true });
      return stop;
    },
  };
}
