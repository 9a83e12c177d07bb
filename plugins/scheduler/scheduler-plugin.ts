import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'scheduler',
  commands: {
    'scheduler:set': {
      summary:
        "Run the app's replicas as local containers or as Swarm services (moved at once by a health-gated rollout), or set the scheduler of apps without their own (--global)",
      usage: 'scheduler:set [app] swarm|local | --global swarm|local',
      examples: ['paas scheduler:set myapp swarm', 'paas scheduler:set myapp local', 'paas scheduler:set --global swarm'],
      app: 'required',
      access: 'app',
      global: true,
      flags: { global: { type: 'boolean', description: 'the scheduler of apps that have none of their own (admin)' } },
      minArgs: 1,
      maxArgs: 1,
      async run({ app, args, flags, api, stdout, signal }) {
        const [name] = args as [string];
        if (flags.global === true) {
          stdout.write(`Apps without their own scheduler run on: ${await api.scheduler.setGlobal(name)} (from their next rollout)\n`);
          return 0;
        }
        const r = await api.scheduler.set(app, name, stdout, signal);
        stdout.write(
          `Scheduler of ${app} set to ${r.scheduler}${r.moved ? ` (its replicas now run on ${r.scheduler})` : ' (applies at the next rollout)'}\n`,
        );
        return 0;
      },
    },
    'scheduler:report': {
      summary: "Show the app's scheduler and why, its placement, the Swarm's state, and the node of each replica",
      usage: 'scheduler:report [app] [--json]',
      examples: ['paas scheduler:report myapp', 'paas scheduler:report myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const r = await api.scheduler.report(app);
        if (json) {
          writeJson(stdout, r);
          return 0;
        }
        stdout.write(
          `=== ${app} scheduler\n${keyValues([
            [
              'Scheduler',
              `${r.scheduler} (${r.source === 'app' ? 'set for the app' : r.source === 'global' ? 'the global default' : "paas's default"})`,
            ],
            ['Global default', r.global],
            ['Placement', r.placement.join(',') || 'none'],
            ['Swarm', r.swarm.manager ? `manager, ${r.swarm.ready}/${r.swarm.nodes} node(s) ready` : 'not a Swarm manager'],
          ])}`,
        );
        if (r.replicas.length)
          stdout.write(
            table(
              ['PROCESS', 'RELEASE', 'STATE', 'SCHEDULER', 'NODE', 'ADDRESS'],
              r.replicas.map((c) => [`${c.process}.${c.replica}`, `v${c.release}`, c.state, c.scheduler, c.node ?? '-', c.address ?? '-']),
            ),
          );
        return 0;
      },
    },
  },
});
