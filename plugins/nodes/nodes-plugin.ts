import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}MiB`;

export default definePlugin({
  name: 'nodes',
  commands: {
    'nodes:ssh-key': {
      summary: "Print paas's SSH public key: add it to a node's authorized_keys before nodes:add",
      usage: 'nodes:ssh-key',
      app: 'none',
      maxArgs: 0,
      run({ api, stdout }) {
        stdout.write(`${api.cluster.sshKey().publicKey}\n`);
        return 0;
      },
    },
    'nodes:add': {
      summary: 'Prepare a host over SSH (Docker, registry trust, port checks) and join it to the Swarm',
      usage: 'nodes:add <name> ssh://USER@ADDR[:PORT]',
      examples: ['paas nodes:add web2 ssh://root@10.0.0.12'],
      app: 'none',
      minArgs: 2,
      maxArgs: 2,
      async run({ args, api, stdout }) {
        await api.nodes.add(args[0]!, args[1]!, (line) => stdout.write(`-----> ${line}\n`));
        return 0;
      },
    },
    'nodes:list': {
      summary: 'List the Swarm nodes: address, role, state, availability, apps and tasks, memory',
      usage: 'nodes:list [--json]',
      app: 'none',
      maxArgs: 0,
      async run({ api, stdout, json }) {
        const rows = await api.nodes.list();
        if (json) writeJson(stdout, rows);
        else
          stdout.write(
            table(
              ['NAME', 'ADDRESS', 'ROLE', 'STATE', 'AVAILABILITY', 'TASKS', 'APPS', 'MEMORY', 'FREE'],
              rows.map((r) => [
                r.name,
                r.address,
                r.leader ? `${r.role} (leader)` : r.role,
                r.state,
                r.availability,
                r.tasks,
                r.apps.join(',') || '-',
                mib(r.memoryBytes),
                mib(r.freeMemoryBytes),
              ]),
            ),
          );
        return 0;
      },
    },
    'nodes:drain': {
      summary: 'Move every task off a node and place no new ones there',
      usage: 'nodes:drain <name>',
      app: 'none',
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout }) {
        await api.nodes.setAvailability(args[0]!, 'drain');
        stdout.write(`Draining ${args[0]}: its tasks move to the other nodes\n`);
        return 0;
      },
    },
    'nodes:activate': {
      summary: 'Let Swarm place tasks on a drained node again',
      usage: 'nodes:activate <name>',
      app: 'none',
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout }) {
        await api.nodes.setAvailability(args[0]!, 'active');
        stdout.write(`${args[0]} is active\n`);
        return 0;
      },
    },
    'nodes:label': {
      summary: 'Set a label on a node, for placement constraints (KEY= removes it)',
      usage: 'nodes:label <name> KEY=VALUE',
      examples: ['paas nodes:label web2 tier=web', "paas ps:set myapp placement 'node.labels.tier==web'"],
      app: 'none',
      minArgs: 2,
      maxArgs: 2,
      async run({ args, api, stdout }) {
        await api.nodes.label(args[0]!, args[1]!);
        stdout.write(`Labelled ${args[0]}: ${args[1]}\n`);
        return 0;
      },
    },
    'nodes:remove': {
      summary: 'Drain a node, make it leave the Swarm and forget it (refused while it runs the only replicas of an app)',
      usage: 'nodes:remove <name>',
      app: 'none',
      minArgs: 1,
      maxArgs: 1,
      async run({ args, api, stdout }) {
        await api.nodes.remove(args[0]!, (line) => stdout.write(`${line}\n`));
        stdout.write(`Removed node ${args[0]}\n`);
        return 0;
      },
    },
  },
});
