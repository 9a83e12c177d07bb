import { formatCpus, formatMemory, type ResourceTable } from '../../src/deploy/resource-limits.js';
import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { appliesAtNextRollout, table, writeJson } from '../../src/plugin-host/output.js';
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
      access: 'app',
      minArgs: 1,
      flags: { process: { type: 'string', short: 'p', description: 'the process type (default: every process without its own limits)' } },
      async run({ app, args, flags, api, stdout, signal, json, identity }) {
        const proc = typeof flags.process === 'string' ? flags.process : '*';
        const next = await api.settings.limit(app, proc, args, identity, { out: stdout, signal });
        if (json) {
          writeJson(stdout, { app, resources: next, appliesAt: 'next rollout' });
          return 0;
        }
        const e = next[proc] ?? {};
        const who = proc === '*' ? 'every process' : `process ${proc}`;
        stdout.write(
          `Limits of ${app} (${who}): memory ${formatMemory(e.memoryBytes)}, cpus ${formatCpus(e.nanoCpus)}\n` + appliesAtNextRollout(app),
        );
        return 0;
      },
    },
    'resource:report': {
      summary: 'Show the memory and CPU limits stored for an app (per process, * = default)',
      usage: 'resource:report [app] [--json]',
      examples: ['paas resource:report myapp', 'paas resource:report myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      run({ app, api, stdout, json }) {
        const t = api.settings.resources(app);
        const hardening = api.settings.hardening(app);
        const defaultMemoryBytes = api.settings.defaultMemory();
        if (json) {
          writeJson(stdout, { app, resources: t, hardening, defaultMemoryBytes });
          return 0;
        }
        stdout.write(`=== ${app} resource limits (applied at each rollout)\n`);
        stdout.write(Object.keys(t).length ? table(['PROCESS', 'MEMORY', 'CPUS'], rows(t)) : 'no limits (unlimited memory and CPUs)\n');
        stdout.write(`global default memory: ${defaultMemoryBytes === null ? 'none' : formatMemory(defaultMemoryBytes)}\n`);
        stdout.write(`hardening: ${hardening ? `on (${api.settings.hardeningSummary()})` : 'off'}\n`);
        return 0;
      },
    },
    'resource:set': {
      summary: 'Container hardening of an app (admin only): on by default, off removes it at the next rollout',
      usage: 'resource:set [app] hardening on|off',
      examples: ['paas resource:set myapp hardening off', 'paas resource:set myapp hardening on'],
      app: 'required',
      access: 'app',
      minArgs: 2,
      maxArgs: 2,
      async run({ app, args, api, stdout, signal, identity }) {
        const [key, value] = args as [string, string];
        const on = await api.settings.resourceSet(app, key, value, identity, { out: stdout, signal });
        stdout.write(`Hardening of ${app}: ${on ? `on (${api.settings.hardeningSummary()})` : 'off'}\n` + appliesAtNextRollout(app));
        return 0;
      },
    },
    'resource:set-global': {
      summary: 'Default memory limit of every process without its own (resource:limit), for every app; admin only',
      usage: 'resource:set-global memory <N>k|m|g|none',
      examples: ['paas resource:set-global memory 512m', 'paas resource:set-global memory none'],
      app: 'none',
      minArgs: 2,
      maxArgs: 2,
      run({ args, api, stdout }) {
        const [key, value] = args as [string, string];
        if (key !== 'memory')
          throw CommandErrors.usage(`unknown global setting '${key}' (use memory)`, 'resource:set-global memory <N>k|m|g|none');
        const bytes = api.settings.setDefaultMemory(value);
        stdout.write(
          `Global default memory: ${bytes === null ? 'none' : formatMemory(bytes)}\n` +
            "Applied at each app's next rollout, to processes without their own limit\n",
        );
        return 0;
      },
    },
  },
});
