import type { CronReport, CronTaskView } from '../../src/cron/cron-service.js';
import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import { definePlugin } from '../../src/plugin-host/plugin.js';

const lastRun = (t: CronTaskView) =>
  t.lastRun ? `${t.lastRun.startedAt.replace(/\.\d+Z$/, 'Z')} (#${t.lastRun.id}, v${t.lastRun.release})` : 'never';
const result = (t: CronTaskView) =>
  !t.lastRun ? '-' : t.lastRun.result === 'failed' ? `failed (exit ${t.lastRun.exitCode})` : t.lastRun.result;
const state = (t: CronTaskView) => (t.maintenance ? 'maintenance' : t.suspended ? 'suspended' : 'scheduled');

function listText(tasks: CronTaskView[], withApp: boolean): string {
  if (!tasks.length) return 'No cron tasks (app.json "cron" of the live release)\n';
  const headers = ['ID', 'SCHEDULE', 'STATE', 'LAST RUN', 'RESULT', 'COMMAND'];
  const rows = tasks.map((t) => [t.id, t.schedule, state(t), lastRun(t), result(t), t.command]);
  return withApp
    ? table(
        ['APP', ...headers],
        rows.map((r, i) => [tasks[i]!.app, ...r]),
      )
    : table(headers, rows);
}

const reportText = (r: CronReport) =>
  `=== ${r.app} cron\n${keyValues([
    ['Cron task count', r.tasks],
    ['Live release', r.release === null ? 'none' : `v${r.release}`],
    ['Suspended', r.suspended ? 'yes (cron:resume)' : 'no'],
    ['Suspended tasks', r.suspendedTasks.join(' ') || 'none'],
    ['Running now', r.running],
    ['Time limit', `${r.timeout} s`],
    ['Time zone', 'UTC unless a task sets "timezone"'],
  ])}`;

export default definePlugin({
  name: 'cron',
  commands: {
    'cron:list': {
      summary: "List the app.json cron tasks of the live release: id, schedule, state, last run and its result (--global: every app's)",
      usage: 'cron:list [app] | --global [--json]',
      examples: ['paas cron:list myapp', 'paas cron:list --global --json'],
      app: 'required',
      access: 'app',
      global: true,
      flags: { global: { type: 'boolean', description: 'the tasks of every app (admin)' } },
      maxArgs: 0,
      run({ app, flags, api, stdout, json }) {
        const global = flags.global === true;
        const tasks = global ? api.cron.listAll() : api.cron.list(app);
        if (json) writeJson(stdout, tasks);
        else stdout.write(listText(tasks, global));
        return 0;
      },
    },
    'cron:run': {
      summary: 'Run a cron task now on the live release, under its concurrency policy; attached (its output and exit code) unless --detach',
      usage: 'cron:run [app] <id> [--detach]',
      examples: ['paas cron:run myapp <id>', 'paas cron:run myapp <id> --detach'],
      app: 'required',
      access: 'app',
      flags: { detach: { type: 'boolean', description: 'start it and return (output: logs -p cron)' } },
      minArgs: 1,
      maxArgs: 1,
      run({ app, args, flags, api, stdout, stderr, signal, identity }) {
        return api.cron.run(app, args[0]!, identity.keyName, flags.detach === true, { stdout, stderr, signal });
      },
    },
    'cron:suspend': {
      summary: 'Stop running one task (ID) or all of the app on schedule, until cron:resume; survives restarts; running runs finish',
      usage: 'cron:suspend [app] [id]',
      examples: ['paas cron:suspend myapp', 'paas cron:suspend myapp <id>'],
      app: 'required',
      access: 'app',
      maxArgs: 1,
      run({ app, args, api, stdout }) {
        stdout.write(`${api.cron.suspend(app, args[0] ?? null)}\n`);
        return 0;
      },
    },
    'cron:resume': {
      summary: 'Run a suspended task (ID), or the whole app and all its tasks, on schedule again',
      usage: 'cron:resume [app] [id]',
      examples: ['paas cron:resume myapp', 'paas cron:resume myapp <id>'],
      app: 'required',
      access: 'app',
      maxArgs: 1,
      run({ app, args, api, stdout }) {
        stdout.write(`${api.cron.resume(app, args[0] ?? null)}\n`);
        return 0;
      },
    },
    'cron:report': {
      summary: "Show an app's cron: task count, suspension, runs going on, time limit (--global: every app)",
      usage: 'cron:report [app] | --global [--json]',
      examples: ['paas cron:report myapp', 'paas cron:report --global --json'],
      app: 'required',
      access: 'app',
      global: true,
      flags: { global: { type: 'boolean', description: 'every app (admin)' } },
      maxArgs: 0,
      run({ app, flags, api, stdout, json, identity }) {
        const reports = flags.global === true ? api.apps.list(identity).map((a) => api.cron.report(a.name)) : [api.cron.report(app)];
        if (json) writeJson(stdout, flags.global === true ? reports : reports[0]);
        else stdout.write(reports.map(reportText).join(''));
        return 0;
      },
    },
    'cron:set': {
      summary: "Set the app's cron time limit: a run still going after it is stopped (default 24h; no value: the default)",
      usage: 'cron:set [app] timeout [DURATION]',
      examples: ['paas cron:set myapp timeout 2h', 'paas cron:set myapp timeout'],
      app: 'required',
      access: 'app',
      minArgs: 1,
      maxArgs: 2,
      run({ app, args, api, stdout }) {
        const s = api.cron.set(app, args[0]!, args[1]);
        stdout.write(`Cron time limit of ${app}: ${s} s (applies to runs started from now)\n`);
        return 0;
      },
    },
  },
});
