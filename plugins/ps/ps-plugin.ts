import { AppError } from '../../src/errors/app-error.js';
import { fmt } from '../../src/deploy/operations.js';
import { MAX_REPLICAS_KEY, RESTART_POLICY_KEY } from '../../src/deploy/setting-keys.js';
import { parseScaleArgs } from '../../src/deploy/operation-inputs.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

function duration(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function bytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

const RESTART_RE = /^(no|always|on-failure)(?::(\d{1,4}))?$/;

export default definePlugin({
  name: 'ps',
  aliases: { 'ps:scale': 'apps:scale' },
  commands: {
    'apps:scale': {
      summary: 'Set the number of containers per process type; web changes are health-gated and drained through the proxy',
      usage: 'apps:scale [app] <process=N>...',
      examples: ['paas apps:scale myapp web=3 worker=1', 'paas ps:scale myapp worker=0'],
      app: 'required',
      async run({ app, args, services, stdout, signal }) {
        const ops = services.operations;
        if (args.length === 0) {
          stdout.write(`${fmt(services.state.formation.all(app))}\n`);
          return 0;
        }
        const changes = parseScaleArgs(args, ops.knownProcesses(app), ops.maxReplicas(app));
        const started = Date.now();
        const r = await ops.scale(app, changes, stdout, signal);
        if (r.applied) stdout.write(`-----> ${app} scaled to ${fmt(r.formation)} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        else if (ops.isStopped(app)) stdout.write(`${app} is stopped; ps:start ${app} will run ${fmt(r.formation)}\n`);
        else stdout.write(`Formation of ${app} set to ${fmt(r.formation)} (applies at the first deploy)\n`);
        return 0;
      },
    },
    'ps:restart': {
      summary: 'Restart every container with zero downtime (new containers, health-gated, then the old ones drain)',
      usage: 'ps:restart [app]',
      examples: ['paas ps:restart myapp'],
      app: 'required',
      maxArgs: 0,
      async run({ app, services, stdout, signal }) {
        const r = await services.operations.restart(app, stdout, signal);
        stdout.write(`-----> Restarted ${app} (v${r.version})\n`);
        return 0;
      },
    },
    'ps:stop': {
      summary: "Stop all of an app's containers and take it out of the proxy; it stays stopped until ps:start",
      usage: 'ps:stop [app]',
      examples: ['paas ps:stop myapp'],
      app: 'required',
      maxArgs: 0,
      async run({ app, services, stdout, signal }) {
        const r = await services.operations.stop(app, stdout, signal);
        stdout.write(r.already ? `${app} is already stopped\n` : `-----> Stopped ${app} (${r.stopped} container(s))\n`);
        return 0;
      },
    },
    'ps:start': {
      summary: 'Start an app stopped with ps:stop (or start missing containers), health-gated',
      usage: 'ps:start [app]',
      examples: ['paas ps:start myapp'],
      app: 'required',
      maxArgs: 0,
      async run({ app, services, stdout, signal }) {
        const f = await services.operations.start(app, stdout, signal);
        stdout.write(`-----> Started ${app}: ${fmt(f)}\n`);
        return 0;
      },
    },
    'ps:report': {
      summary: 'Per container: process, replica, state, uptime, restarts, CPU and memory',
      usage: 'ps:report [app] [--json]',
      examples: ['paas ps:report myapp', 'paas ps:report myapp --json'],
      app: 'required',
      maxArgs: 0,
      async run({ app, services, stdout, json }) {
        const rows = await services.operations.report(app);
        const live = services.state.releases.current(app);
        const stopped = services.operations.isStopped(app);
        const formation = services.state.formation.all(app);
        if (json) {
          writeJson(stdout, { app, release: live?.version ?? null, stopped, formation, containers: rows });
          return 0;
        }
        stdout.write(`=== ${app}${live ? ` v${live.version}` : ''}${stopped ? ' (stopped)' : ''}: ${fmt(formation)}\n`);
        if (rows.length === 0) stdout.write('no containers\n');
        else
          stdout.write(
            table(
              ['PROCESS', 'RELEASE', 'STATE', 'UPTIME', 'RESTARTS', 'CPU', 'MEMORY', 'NAME'],
              rows.map((c) => [
                `${c.process}.${c.replica}`,
                `v${c.release}`,
                c.state,
                duration(c.uptimeSeconds),
                c.restarts,
                c.cpuPercent === null ? '-' : `${c.cpuPercent.toFixed(1)}%`,
                c.memoryBytes === null ? '-' : `${bytes(c.memoryBytes)}${c.memoryLimitBytes ? ` / ${bytes(c.memoryLimitBytes)}` : ''}`,
                c.name,
              ]),
            ),
          );
        return 0;
      },
    },
    'ps:set': {
      summary:
        'Set a process setting: max-replicas (apps:scale cap, default 20) or restart-policy (no|always|on-failure[:N], next rollout)',
      usage: 'ps:set [app] <max-replicas|restart-policy> <value>',
      examples: ['paas ps:set myapp max-replicas 50', 'paas ps:set myapp restart-policy on-failure:5'],
      app: 'required',
      minArgs: 2,
      maxArgs: 2,
      run({ app, args, services, stdout }) {
        const [key, value] = args as [string, string];
        if (key === 'max-replicas') {
          if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
            throw new AppError('PAAS_ERR_PS_SET', `max-replicas must be a whole number from 1 to 1000, got '${value}'`, { exitCode: 2 });
          }
          services.state.appSettings.set(app, MAX_REPLICAS_KEY, Number(value));
        } else if (key === 'restart-policy') {
          const m = RESTART_RE.exec(value);
          if (!m)
            throw new AppError('PAAS_ERR_PS_SET', `restart-policy must be no, always or on-failure[:N], got '${value}'`, { exitCode: 2 });
          const policy = m[1] as 'no' | 'always' | 'on-failure';
          services.state.appSettings.set(
            app,
            RESTART_POLICY_KEY,
            policy === 'on-failure' ? { policy, maxRetries: Number(m[2] ?? 10) } : { policy },
          );
        } else {
          throw new AppError('PAAS_ERR_PS_SET', `unknown setting '${key}' (use max-replicas or restart-policy)`, { exitCode: 2 });
        }
        stdout.write(`Set ${key}=${value} on ${app}${key === 'restart-policy' ? ' (applies at the next rollout: ps:restart)' : ''}\n`);
        return 0;
      },
    },
  },
});
