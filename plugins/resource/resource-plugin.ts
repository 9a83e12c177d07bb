import { formatCpus, formatMemory, type ResourceTable } from '../../src/deploy/resource-limits.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

function rows(t: ResourceTable): string[][] {
  return Object.keys(t)
    .sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : a.localeCompare(b)))
    .map((p) => [p === '*' ? '* (default)' : p, formatMemory(t[p]!.memoryBytes), formatCpus(t[p]!.nanoCpus)]);
}

export default definePlugin({
  name: 'resource',
  commands: {
    'resource:limit': {
      summary: 'Limit memory and CPUs of every process (or one with --process); applied at the next rollout',
      usage: 'resource:limit [app] [--process TYPE] memory=<N>k|m|g cpus=<N>   (none clears a limit)',
      examples: [
        'paas resource:limit myapp memory=512m cpus=1',
        'paas resource:limit myapp --process worker memory=1g',
        'paas resource:limit myapp cpus=none',
      ],
      app: 'required',
      minArgs: 1,
      flags: { process: { type: 'string', short: 'p', description: 'the process type (default: every process without its own limits)' } },
      async run({ app, args, flags, api, stdout, signal, json }) {
        const proc = typeof flags.process === 'string' ? flags.process : '*';
        const next = await api.settings.limit(app, proc, args, { out: stdout, signal });
        if (json) {
          writeJson(stdout, { app, resources: next, appliesAt: 'next rollout' });
          return 0;
        }
        const e = next[proc] ?? {};
        const who = proc === '*' ? 'every process' : `process ${proc}`;
        stdout.write(
          `Limits of ${app} (${who}): memory ${formatMemory(e.memoryBytes)}, cpus ${formatCpus(e.nanoCpus)}\n` +
            `Applied at the next rollout (ps:restart ${app}, a deploy, a config change or a scale)\n`,
        );
        return 0;
      },
    },
    'resource:report': {
      summary: 'Show the memory and CPU limits stored for an app (per process, * = default)',
      usage: 'resource:report [app] [--json]',
      examples: ['paas resource:report myapp', 'paas resource:report myapp --json'],
      app: 'required',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const t = api.settings.resources(app);
        if (json) {
          writeJson(stdout, { app, resources: t });
          return 0;
        }
        stdout.write(`=== ${app} resource limits (applied at each rollout)\n`);
        stdout.write(Object.keys(t).length ? table(['PROCESS', 'MEMORY', 'CPUS'], rows(t)) : 'no limits (unlimited memory and CPUs)\n');
        return 0;
      },
    },
  },
});
