import { releaseArg } from '../../src/services/release-service.js';
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
            })),
          );
        } else if (list.length === 0) {
          stdout.write(`${app} has no releases yet: push it with git push paas main\n`);
        } else {
          stdout.write(
            table(
              ['VERSION', 'STATUS', 'CREATED', 'SOURCE', 'DESCRIPTION'],
              list.map((r) => [`v${r.version}`, r.status, r.createdAt, sourceOf(r), r.description]),
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
