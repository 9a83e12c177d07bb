import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import { BUILDER_PATH_KEYS } from '../../src/services/builder-service.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'builder',
  commands: {
    'builder:set': {
      summary:
        'Choose how the app is built (dockerfile, pack, template, auto), where (build-dir, dockerfile-path), or the host build limits (--global)',
      usage:
        'builder:set [app] <dockerfile|pack|template|auto> | [app] build-dir|dockerfile-path [PATH] | --global concurrency N|min-free-memory SIZE|build-timeout DURATION|max-push-size SIZE|max-image-size SIZE|min-free-disk SIZE',
      examples: [
        'paas builder:set myapp pack',
        'paas builder:set myapp build-dir services/api',
        'paas builder:set myapp dockerfile-path docker/Dockerfile.prod',
        'paas builder:set myapp build-dir',
        'paas builder:set --global concurrency 2',
        'paas builder:set --global min-free-memory 300m',
        'paas builder:set --global build-timeout 45m',
        'paas builder:set --global max-push-size 500m',
        'paas builder:set --global max-image-size 4g',
        'paas builder:set --global min-free-disk 2g',
      ],
      app: 'required',
      access: 'app',
      global: true,
      flags: {
        global: {
          type: 'boolean',
          description:
            "the host's build limits and upload caps: concurrency N, min-free-memory SIZE|none, build-timeout DURATION, max-push-size SIZE|none, max-image-size SIZE|none, min-free-disk SIZE|none (admin)",
        },
      },
      minArgs: 1,
      maxArgs: 2,
      async run({ app, args, flags, api, stdout, signal }) {
        const [key, value] = args as [string, string | undefined];
        if (flags.global === true) {
          stdout.write(`Builds on this host: ${key} ${api.builder.setGlobal(key, value)}\n`);
          return 0;
        }
        if ((BUILDER_PATH_KEYS as readonly string[]).includes(key)) {
          const v = await api.builder.setPath(app, key, value ?? '', { out: stdout, signal });
          stdout.write(`${key} of ${app} set to ${v ?? 'the default'} (applies at the next push)\n`);
          return 0;
        }
        if (value !== undefined) throw CommandErrors.usage(`unexpected argument '${value}'`, 'builder:set [app] <builder>');
        const b = await api.settings.setBuilder(app, key, { out: stdout, signal });
        stdout.write(`Builder of ${app} set to ${b} (applies at the next push)\n`);
        return 0;
      },
    },
    'builder:report': {
      summary:
        "Show the builder the next push uses and why, the build dir and Dockerfile path, the build's limits and the host's upload caps",
      usage: 'builder:report [app] [--json]',
      examples: ['paas builder:report myapp'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const r = await api.builder.report(app);
        if (json) writeJson(stdout, r);
        else
          stdout.write(
            `=== ${app} builder\n${keyValues([
              ['Builder', r.builder ?? 'not decided yet'],
              ['Why', r.reason],
              ['Last built with', r.lastBuilt],
              ['Build dir', r.buildDir],
              ['Dockerfile path', r.dockerfilePath],
              ['Concurrency', `${r.concurrency} build(s) at a time on this host`],
              ['Min free memory', r.minFreeMemory],
              ['Build memory', r.buildMemory],
              ['Build processes', String(r.buildProcesses)],
              ['Build timeout', r.buildTimeout],
              ['Max push size', r.maxPushSize],
              ['Max image size', r.maxImageSize],
              ['Min free disk', r.minFreeDisk],
            ])}`,
          );
        return 0;
      },
    },
    'builder:build-args': {
      summary: 'Set, unset (K=) or list the build args passed to the next builds',
      usage: 'builder:build-args [app] [K=V | K= ...] [--json]',
      examples: ['paas builder:build-args myapp NODE_ENV=production', 'paas builder:build-args myapp NODE_ENV='],
      app: 'required',
      access: 'app',
      async run({ app, args, api, stdout, signal, json }) {
        let current = api.settings.buildArgs(app);
        if (args.length) {
          current = await api.settings.updateBuildArgs(app, args, { out: stdout, signal });
          stdout.write(`Build args of ${app} updated (apply at the next push)\n`);
        }
        if (json) writeJson(stdout, current);
        else if (!args.length) stdout.write(table(['ARG', 'VALUE'], Object.entries(current)));
        return 0;
      },
    },
  },
});
