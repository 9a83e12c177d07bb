import { parseReleaseFilter, parseSince } from '../../src/app-logs/log-retention.js';
import { parseLineCount } from '../../src/inputs/operation-inputs.js';
import { CommandErrors } from '../../src/plugin-host/command-errors.js';
import { keyValues, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';
import { showProxyLog } from './proxy-log.js';

export default definePlugin({
  name: 'logs',
  commands: {
    logs: {
      summary:
        "Show an app's logs, kept across deploys and restarts, prefixed by process.replica; -t follows; --proxy shows the proxy's access log",
      usage: 'logs [app] [-t] [-n N] [-p PROCESS] [--since DURATION] [--release vN] [--proxy]',
      examples: [
        'paas logs myapp',
        'paas logs myapp -t',
        'paas logs myapp -n 500 -p worker',
        'paas logs myapp --since 2h',
        'paas logs myapp --release v12',
        'paas logs myapp --proxy -n 50',
      ],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      flags: {
        tail: { type: 'boolean', short: 't', description: 'keep following new lines until interrupted' },
        num: { type: 'string', short: 'n', description: 'the last N lines (default 100)' },
        ps: { type: 'string', short: 'p', description: 'only this process type' },
        since: { type: 'string', description: 'only lines of the last DURATION (e.g. 2h, 30m, 1d)' },
        release: { type: 'string', description: 'only lines of this release (e.g. v12)' },
        proxy: {
          type: 'boolean',
          description: "the proxy's access log of the app instead (time, method, path, status, duration, bytes, client, request id)",
        },
      },
      wantsTty: (args) => args.includes('-t') || args.includes('--tail'),
      async run({ app, flags, api, stdout, signal }) {
        const lines = parseLineCount(flags.num);
        if (flags.proxy === true) {
          if (typeof flags.ps === 'string' || flags.since !== undefined || flags.release !== undefined)
            throw CommandErrors.usage('--proxy shows web requests: it takes no -p, --since or --release', 'logs [app] --proxy [-t] [-n N]');
          await showProxyLog(api, app, { lines, follow: flags.tail === true }, stdout, signal);
          return 0;
        }
        const process = typeof flags.ps === 'string' ? flags.ps : null;
        const sinceMs = typeof flags.since === 'string' ? parseSince(flags.since) : null;
        const release = typeof flags.release === 'string' ? parseReleaseFilter(flags.release) : null;
        await api.logs.logs(app, { follow: flags.tail === true, lines, process, sinceMs, release }, stdout, signal);
        return 0;
      },
    },
    'logs:set': {
      summary: "Set how much of an app's log is kept (max-size, max-age) and where it is shipped (drain); --global sets the default caps",
      usage: 'logs:set [app] max-size SIZE | max-age DURATION | drain URL|off | --global max-size SIZE|max-age DURATION',
      examples: [
        'paas logs:set myapp max-size 100m',
        'paas logs:set myapp max-age 7d',
        'paas logs:set myapp drain syslog+tls://logs.example.com:6514',
        'paas logs:set myapp drain https://user:secret@logs.example.com/ingest',
        'paas logs:set myapp drain off',
        'paas logs:set --global max-size 50m',
      ],
      app: 'required',
      access: 'app',
      global: true,
      flags: {
        global: { type: 'boolean', description: 'the default caps of apps without their own: max-size SIZE, max-age DURATION (admin)' },
      },
      minArgs: 1,
      maxArgs: 2,
      async run({ app, args, flags, api, stdout, identity }) {
        const [key, value] = args as [string, string | undefined];
        if (flags.global === true) {
          stdout.write(`Logs on this host: ${key} ${api.logs.setGlobal(key, value)} by default\n`);
          return 0;
        }
        stdout.write(`Logs of ${app}: ${key} ${api.logs.set(app, key, value, { admin: identity.role === 'admin' })}\n`);
        return 0;
      },
    },
    'logs:report': {
      summary: "Show how much of an app's log is kept, lines dropped on a full disk, and its drain's counts",
      usage: 'logs:report [app] [--json]',
      examples: ['paas logs:report myapp', 'paas logs:report myapp --json'],
      app: 'required',
      access: 'app',
      maxArgs: 0,
      async run({ app, api, stdout, json }) {
        const r = api.logs.report(app);
        if (json) writeJson(stdout, r);
        else {
          const dflt = (k: 'max-size' | 'max-age') => (r.defaults.includes(k) ? ' (host default)' : '');
          stdout.write(
            `=== ${app} logs\n${keyValues([
              ['Max size', `${r.maxSize}${dflt('max-size')}`],
              ['Max age', `${r.maxAge}${dflt('max-age')}`],
              ['Stored', `${r.storedBytes} bytes in ${r.segments} segment(s)`],
              ['Dropped lines', `${r.droppedLines} (log not writable, e.g. a full disk; since the server started)`],
              ['Following', `${r.following} container(s)`],
              ['Drain', r.drain ? r.drain.url : 'none'],
              ...(r.drain
                ? ([
                    ['Drain sent', String(r.drain.sent)],
                    ['Drain dropped', String(r.drain.dropped)],
                    ['Drain queued', String(r.drain.queued)],
                    ['Drain error', r.drain.lastError ?? 'none'],
                  ] as [string, string][])
                : []),
            ])}`,
          );
        }
        return 0;
      },
    },
  },
});
