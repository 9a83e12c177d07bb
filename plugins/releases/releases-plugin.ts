import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { formatKeepWarm, RELEASE_SETTING_KEYS, releaseArg } from '../../src/services/release-service.js';
import { parseCount } from '../../src/inputs/operation-inputs.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

/** A release's source: the commit it was built from, or the id of the image it was deployed from. */
function sourceOf(r: { commitSha: string | null; sourceImage: string | null }): string | null {
  if (r.sourceImage) return `image ${r.sourceImage.replace(/^sha256:/, '').slice(0, 12)}`;
  return r.commitSha?.slice(0, 7) ?? null;
}

export default definePlugin({
  name: 'releases',
  commands: {
    releases: {
      summary: "List an app's releases, newest first",
      usage: 'releases [app] [--json]',
      examples: ['paas releases myapp', 'paas releases myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: { num: { type: 'string', short: 'n', description: 'how many releases to show (default 20)' } },
      run({ app, flags, api, stdout, json }) {
        const list = api.releases.list(app, parseCount('-n', flags.num, 20, 1));
        const warm = api.releases.warm(app);
        const warmUntil = (v: number) => (warm?.release === v ? new Date(warm.until).toISOString() : null);
        if (json) {
          writeJson(
            stdout,
            list.map((r) => ({
              version: r.version,
              status: r.status,
              description: r.description,
              image: r.image,
              commit: r.commitSha,
              sourceImage: r.sourceImage,
              builder: r.builder,
              formation: r.formation,
              configKeys: Object.keys(r.config).sort(),
              createdAt: r.createdAt,
              timingsMs: r.timings,
              warmUntil: warmUntil(r.version),
            })),
          );
        } else if (list.length === 0) {
          stdout.write(`${app} has no releases yet: push it with git push paas main\n`);
        } else {
          stdout.write(
            table(
              ['VERSION', 'STATUS', 'CREATED', 'SOURCE', 'DESCRIPTION'],
              list.map((r) => {
                const until = warmUntil(r.version);
                return [
                  `v${r.version}`,
                  until ? `${r.status} (warm until ${until.slice(11, 19)})` : r.status,
                  r.createdAt,
                  sourceOf(r),
                  r.description,
                ];
              }),
            ),
          );
        }
        return 0;
      },
    },
    'releases:rollback': {
      summary: 'Roll back to an earlier release: restores its image, config and formation in one health-gated cutover, no rebuild',
      usage: 'releases:rollback [app] [vN]',
      examples: ['paas releases:rollback myapp', 'paas releases:rollback myapp v3'],
      app: 'required',
      access: 'app',
      maxArgs: 1,
      async run({ app, args, api, stdout, signal }) {
        const started = Date.now();
        const r = await api.releases.rollback(app, args[0] === undefined ? null : releaseArg(args[0]), stdout, signal);
        stdout.write(
          `-----> Rolled back ${app} to v${r.to.version}: v${r.release.version} is live (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
        );
        return 0;
      },
    },
    'releases:set': {
      summary:
        'Set how long the previous release stays warm (paused) after a deploy, for an instant rollback (0: off; --global: the default of every app)',
      usage: 'releases:set [app] keep-warm DURATION | --global keep-warm DURATION',
      examples: [
        'paas releases:set myapp keep-warm 10m',
        'paas releases:set myapp keep-warm 0',
        'paas releases:set --global keep-warm 30m',
      ],
      app: 'required',
      access: 'app',
      global: true,
      flags: { global: { type: 'boolean', description: 'the default of apps without their own keep-warm (admin)' } },
      minArgs: 1,
      maxArgs: 2,
      async run({ app, args, flags, api, stdout, signal }) {
        const [key, value] = args as [string, string | undefined];
        if (!(RELEASE_SETTING_KEYS as readonly string[]).includes(key))
          throw CommandErrors.usage(
            `unknown setting '${key}' (use ${RELEASE_SETTING_KEYS.join(', ')}); nothing was changed`,
            'releases:set [app] keep-warm DURATION',
          );
        if (flags.global === true) {
          stdout.write(`keep-warm of apps without their own set to ${formatKeepWarm(api.releases.setGlobalKeepWarm(value))}\n`);
          return 0;
        }
        const ms = await api.releases.setKeepWarm(app, value, stdout, signal);
        stdout.write(
          `keep-warm of ${app} set to ${formatKeepWarm(ms)} (${ms === 0 ? 'a release kept warm now is stopped' : 'applies from the next deploy'})\n`,
        );
        return 0;
      },
    },
    'releases:log': {
      summary: 'Show the deploy output that made a release (default: the newest)',
      usage: 'releases:log [app] [vN]',
      examples: ['paas releases:log myapp', 'paas releases:log myapp v3'],
      app: 'required',
      access: 'app',
      maxArgs: 1,
      run({ app, args, api, stdout }) {
        stdout.write(api.releases.log(app, args[0] === undefined ? null : releaseArg(args[0])));
        return 0;
      },
    },
  },
});
