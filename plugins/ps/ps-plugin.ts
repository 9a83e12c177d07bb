import { formatFormation as fmt } from '../../src/deploy/converge-to.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { runTop } from './ps-top.js';

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

export default definePlugin({
  name: 'ps',
  aliases: { 'ps:scale': 'apps:scale' },
  commands: {
    'apps:scale': {
      summary: 'Set the number of containers per process type; web changes are health-gated and drained through the proxy',
      usage: 'apps:scale [app] <process=N>...',
      examples: ['paas apps:scale myapp web=3 worker=1', 'paas ps:scale myapp worker=0'],
      app: 'required',
      access: 'app',
      async run({ app, args, api, stdout, signal }) {
        if (args.length === 0) {
          stdout.write(`${fmt(api.formation.formation(app))}\n`);
          return 0;
        }
        const started = Date.now();
        const r = await api.formation.scale(app, args, stdout, signal);
        if (r.applied) stdout.write(`-----> ${app} scaled to ${fmt(r.formation)} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        else if (r.stopped) stdout.write(`${app} is stopped; ps:start ${app} will run ${fmt(r.formation)}\n`);
        else stdout.write(`Formation of ${app} set to ${fmt(r.formation)} (applies at the first deploy)\n`);
        return 0;
      },
    },
    'ps:restart': {
      summary: 'Restart every container with zero downtime (new containers, health-gated, then the old ones drain)',
      usage: 'ps:restart [app]',
      examples: ['paas ps:restart myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, signal }) {
        const r = await api.processes.restart(app, stdout, signal);
        stdout.write(`-----> Restarted ${app} (v${r.version})\n`);
        return 0;
      },
    },
    'ps:rebuild': {
      summary: 'Build the pushed main branch again (with the current config, builder and build args) and deploy it',
      usage: 'ps:rebuild [app]',
      examples: ['paas ps:rebuild myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, signal, identity }) {
        return api.deploys.rebuild(app, identity, stdout, signal);
      },
    },
    'ps:stop': {
      summary: "Stop all of an app's containers and take it out of the proxy; it stays stopped until ps:start",
      usage: 'ps:stop [app]',
      examples: ['paas ps:stop myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, signal }) {
        const r = await api.processes.stop(app, stdout, signal);
        stdout.write(r.already ? `${app} is already stopped\n` : `-----> Stopped ${app} (${r.stopped} container(s))\n`);
        return 0;
      },
    },
    'ps:start': {
      summary: 'Start an app stopped with ps:stop (or start missing containers), health-gated',
      usage: 'ps:start [app]',
      examples: ['paas ps:start myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, signal }) {
        const f = await api.processes.start(app, stdout, signal);
        stdout.write(`-----> Started ${app}: ${fmt(f)}\n`);
        return 0;
      },
    },
    'ps:report': {
      summary:
        'Per container: process, replica, state, uptime, restarts, CPU and memory; can-scale false when app.json formation sets the formation',
      usage: 'ps:report [app] [--json]',
      examples: ['paas ps:report myapp', 'paas ps:report myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const { release, stopped, formation, canScale, fixedBy, containers: rows } = await api.processes.status(app);
        // a Swarm app: the nodes the manager marks down (their replicas are being moved)
        const nodesDown = rows.some((c) => c.node)
          ? (await api.nodes.list().catch(() => [])).filter((n) => n.state !== 'ready').map((n) => n.name)
          : [];
        if (json) {
          writeJson(stdout, { app, release, stopped, formation, canScale, fixedBy, containers: rows, nodesDown });
          return 0;
        }
        stdout.write(`=== ${app}${release !== null ? ` v${release}` : ''}${stopped ? ' (stopped)' : ''}: ${fmt(formation)}\n`);
        stdout.write(`can-scale ${canScale}${canScale ? '' : ` (app.json formation sets ${fixedBy.join(', ')})`}\n`);
        for (const n of nodesDown) stdout.write(`node ${n} is down: Swarm moves its replicas to the other nodes\n`);
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
                c.node ? `${c.name} on ${c.node}` : c.name,
              ]),
            ),
          );
        return 0;
      },
    },
    'ps:top': {
      summary:
        'Per app and process type: replicas, CPU %, memory used/limit, network in/out, and for web the req/s, p95 and 5xx of the last minute; -w redraws every 2 s',
      usage: 'ps:top [app] [--json] [-w]',
      examples: ['paas ps:top', 'paas ps:top myapp --json', 'paas ps:top myapp -w'],
      app: 'optional',
      access: 'app',
      maxArgs: 0,
      flags: { watch: { type: 'boolean', short: 'w', description: 'redraw in place every 2 s until interrupted' } },
      wantsTty: (args) => args.includes('-w') || args.includes('--watch'),
      async run({ app, api, stdout, json, flags, identity, signal }) {
        const apps = new Set(app !== '' ? [app] : api.apps.list(identity).map((a) => a.name));
        await runTop(api, apps, stdout, { json, watch: flags.watch === true, signal });
        return 0;
      },
    },
    'ps:maintenance': {
      summary: 'Answer every request with a 503 maintenance page (your --message) while the containers keep running',
      usage: 'ps:maintenance [app] <on|off> [--message TEXT]',
      examples: ['paas ps:maintenance myapp on --message "Back at 14:00 UTC"', 'paas ps:maintenance myapp off'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 1,
      flags: { message: { type: 'string', description: 'the text of the maintenance page (with on)' } },
      async run({ app, args, flags, api, stdout }) {
        const message = typeof flags.message === 'string' ? flags.message : undefined;
        const r = await api.traffic.maintenance(app, args[0]!, message);
        const later = r.applied ? '' : ' (applies when the app next runs web containers)';
        stdout.write(
          r.on
            ? `${app} is in maintenance: requests get 503 "${r.message}"${later}
`
            : `${app} is serving again${later}
`,
        );
        return 0;
      },
    },
    'ps:pause': {
      summary: 'Hold new requests (not dropped) until ps:resume or --max (default 30s, at most 1h), e.g. for a migration',
      usage: 'ps:pause [app] [--max 30s]',
      examples: ['paas ps:pause myapp --max 2m', 'paas ps:pause myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: { max: { type: 'string', description: 'the longest the pause lasts (e.g. 30s, 5m; at most 1h)' } },
      async run({ app, flags, api, stdout }) {
        const r = await api.traffic.pause(app, typeof flags.max === 'string' ? flags.max : undefined);
        const later = r.applied ? '' : ' (applies when the app next runs web containers)';
        stdout.write(`${app} is paused until ${new Date(r.until).toISOString()}: new requests wait; ps:resume ${app} lets them go on${later}
`);
        return 0;
      },
    },
    'ps:resume': {
      summary: 'End a ps:pause: held requests go on to the app in arrival order',
      usage: 'ps:resume [app]',
      examples: ['paas ps:resume myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout }) {
        const r = await api.traffic.resume(app);
        stdout.write(
          r.wasPaused
            ? `${app} resumed: held requests go on
`
            : `${app} was not paused
`,
        );
        return 0;
      },
    },
    'ps:set': {
      summary:
        'Set a process setting: max-replicas (apps:scale cap, default 20), restart-policy (no|always|unless-stopped|on-failure[:N], next rollout) or placement (Swarm constraints, checked against the nodes, next rollout; none clears)',
      usage: 'ps:set [app] <max-replicas|restart-policy|placement> <value>',
      examples: [
        'paas ps:set myapp max-replicas 50',
        'paas ps:set myapp restart-policy on-failure:5',
        "paas ps:set myapp placement 'node.labels.tier==web'",
        'paas ps:set myapp placement none',
      ],
      app: 'required',
      access: 'app',
      minArgs: 2,
      maxArgs: 2,
      async run({ app, args, api, stdout, signal, identity }) {
        const [key, value] = args as [string, string];
        if (key === 'placement') {
          const r = await api.scheduler.setPlacement(app, value, stdout, signal);
          stdout.write(
            r.placement.length
              ? `Set placement=${r.placement.join(',')} on ${app}, matching node(s): ${r.nodes.join(', ')} (applies at the next rollout: ps:restart)\n`
              : `Cleared the placement of ${app} (applies at the next rollout: ps:restart)\n`,
          );
          return 0;
        }
        await api.processes.set(app, key, value, identity, stdout, signal);
        stdout.write(`Set ${key}=${value} on ${app}${key === 'restart-policy' ? ' (applies at the next rollout: ps:restart)' : ''}\n`);
        return 0;
      },
    },
  },
});
