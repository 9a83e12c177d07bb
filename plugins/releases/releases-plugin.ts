import fs from 'node:fs';
import { AppError } from '../../src/errors/app-error.js';
import { releaseLogPath } from '../../src/deploy/release-log.js';
import { table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

export default definePlugin({
  name: 'releases',
  commands: {
    releases: {
      summary: "List an app's releases, newest first",
      usage: 'releases [app] [--json]',
      examples: ['paas releases myapp', 'paas releases myapp --json'],
      app: 'required',
      maxArgs: 0,
      flags: { num: { type: 'string', short: 'n', description: 'how many releases to show (default 20)' } },
      run({ app, flags, services, stdout, json }) {
        const n = flags.num === undefined ? 20 : Number(flags.num);
        if (!Number.isInteger(n) || n < 1)
          throw new AppError('PAAS_ERR_RELEASES_USAGE', `-n takes a positive whole number, got '${flags.num}'`, { exitCode: 2 });
        const list = services.state.releases.list(app, n);
        if (json) {
          writeJson(
            stdout,
            list.map((r) => ({
              version: r.version,
              status: r.status,
              description: r.description,
              image: r.image,
              commit: r.commitSha,
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
              ['VERSION', 'STATUS', 'CREATED', 'COMMIT', 'DESCRIPTION'],
              list.map((r) => [`v${r.version}`, r.status, r.createdAt, r.commitSha?.slice(0, 7), r.description]),
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
      maxArgs: 1,
      async run({ app, args, services, stdout, signal }) {
        let version: number | null = null;
        if (args[0] !== undefined) {
          const m = /^v?(\d{1,9})$/.exec(args[0]);
          if (!m) throw new AppError('PAAS_ERR_ROLLBACK_USAGE', `'${args[0]}' is not a release version (e.g. v3)`, { exitCode: 2 });
          version = Number(m[1]);
        }
        const started = Date.now();
        const r = await services.operations.rollback(app, version, stdout, signal);
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
      maxArgs: 1,
      run({ app, args, services, stdout }) {
        let version: number;
        if (args[0] === undefined) {
          const newest = services.state.releases.list(app, 1)[0];
          if (!newest) throw new AppError('PAAS_ERR_RELEASES_NONE', `app '${app}' has no releases yet`);
          version = newest.version;
        } else {
          const m = /^v?(\d+)$/.exec(args[0]);
          if (!m) throw new AppError('PAAS_ERR_RELEASES_USAGE', `'${args[0]}' is not a release (use vN)`, { exitCode: 2 });
          version = Number(m[1]);
          if (!services.state.releases.get(app, version))
            throw new AppError('PAAS_ERR_RELEASES_NOT_FOUND', `app '${app}' has no release v${version}`);
        }
        const file = releaseLogPath(services.dataDir, app, version);
        if (!fs.existsSync(file)) {
          throw new AppError('PAAS_ERR_RELEASES_NO_LOG', `release v${version} of '${app}' has no deploy log (only pushes record one)`);
        }
        stdout.write(fs.readFileSync(file));
        return 0;
      },
    },
  },
});
