import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'cluster',
  commands: {
    'cluster:init': {
      summary: "Make paas's engine the manager of a Docker Swarm and start paas's image registry beside it (idempotent)",
      usage: 'cluster:init [--advertise-addr ADDR] [--json]',
      examples: ['paas cluster:init --advertise-addr 10.0.0.11'],
      app: 'none',
      maxArgs: 0,
      flags: {
        'advertise-addr': { type: 'string', description: 'the address nodes reach the manager on (default: the one Docker picks)' },
      },
      async run({ flags, api, stdout, json }) {
        const addr = typeof flags['advertise-addr'] === 'string' ? flags['advertise-addr'] : undefined;
        const r = await api.cluster.init(addr === undefined ? {} : { advertiseAddr: addr });
        if (json) {
          writeJson(stdout, r);
          return 0;
        }
        stdout.write(r.created ? 'Swarm initialized\n' : 'Swarm already initialized (nothing changed)\n');
        stdout.write(
          keyValues([
            ['manager', `${r.advertiseAddr} (node ${r.managerNodeId.slice(0, 12)})`],
            [
              'heartbeat',
              `${r.heartbeatSeconds} s (a silent node is marked down, and its tasks moved, after about ${3 * r.heartbeatSeconds} s)`,
            ],
            ['registry', `${r.registry} (TLS with paas's CA, login required)${r.registryRunning ? '' : ': starts with paas server'}`],
            ['next', 'paas nodes:ssh-key, then paas nodes:add NAME ssh://root@ADDR'],
          ]),
        );
        return 0;
      },
    },
  },
});
