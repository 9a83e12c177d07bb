import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

function size(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}g`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}m`;
  if (bytes % 1024 === 0) return `${bytes / 1024}k`;
  return `${bytes}`;
}

export default definePlugin({
  name: 'proxy',
  commands: {
    'proxy:set': {
      summary: 'Set a proxy setting of an app: max-body-size (default 100m; a bigger request body gets 413), applied at once',
      usage: 'proxy:set [app] max-body-size <size>',
      examples: ['paas proxy:set myapp max-body-size 20m', 'paas proxy:set myapp max-body-size 1g'],
      app: 'required',
      access: 'app',
      minArgs: 2,
      maxArgs: 2,
      async run({ app, args, api, stdout }) {
        const [key, value] = args as [string, string];
        const r = await api.traffic.set(app, key, value);
        stdout.write(`Set ${key}=${size(r.bytes)} on ${app}${r.applied ? '' : ' (applies when the app next runs web containers)'}\n`);
        return 0;
      },
    },
    'proxy:report': {
      summary: "The proxy's view of an app: hosts, targets with health, in-flight requests and connections, maintenance, pause, body limit",
      usage: 'proxy:report [app] [--json]',
      examples: ['paas proxy:report myapp', 'paas proxy:report myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const r = await api.traffic.report(app);
        if (json) {
          writeJson(stdout, r);
          return 0;
        }
        const s = r.service;
        const pause = r.pausedUntil === null ? 'no' : `until ${new Date(r.pausedUntil).toISOString()}`;
        stdout.write(
          `=== ${app} proxy\n` +
            `Proxy:          pid ${r.proxy.pid}, version ${r.proxy.version ?? '?'}, ${r.proxy.workers ?? '?'} worker(s)\n` +
            `Hosts:          ${s && s.hosts.length > 0 ? s.hosts.join(', ') : '-'}\n` +
            `Routed:         ${r.routed ? 'yes' : 'no (no web containers running)'}\n` +
            `Maintenance:    ${r.maintenance === null ? 'off' : `on: ${r.maintenance}`}\n` +
            `Paused:         ${pause}\n` +
            `Max body size:  ${size(r.maxBodyBytes)}\n`,
        );
        if (s && s.targets.length > 0) {
          stdout.write(
            table(
              ['TARGET', 'HEALTH', 'IN-FLIGHT', 'CONNECTIONS (ACTIVE/IDLE)'],
              s.targets.map((t) => [
                t,
                s.healthy[t] ? 'healthy' : 'down',
                s.inflight[t] ?? 0,
                `${s.connections[t]?.active ?? 0}/${s.connections[t]?.idle ?? 0}`,
              ]),
            ),
          );
        }
        return 0;
      },
    },
  },
});
