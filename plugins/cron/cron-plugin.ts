import type { CronReport, CronTaskView } from '../../src/cron/cron-service.js';
import { keyValues, table, writeJson } from '../../src/plugin-host/output.js';
import type { Identity } from '../../src/contracts/command-io.js';
import type { PluginApi } from '../../src/plugin-host/plugin-api.js';
import { type CommandSpec, definePlugin } from '../../src/plugin-host/plugin.js';

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

/** cron:list and cron:report: one app's, or with --global (admin) every app's. */
function appOrGlobal<T>(o: {
  summary: string;
  usage: string;
  examples: string[];
  read(api: PluginApi, app: string | null, identity: Identity): T[];
  text(items: T[], global: boolean): string;
  json(items: T[], global: boolean): unknown;
}): CommandSpec {
  return {
    summary: o.summary,
    usage: o.usage,
    examples: o.examples,
    app: 'required',
    access: 'app',
    global: true,
    flags: { global: { type: 'boolean', description: 'every app (admin)' } },
    maxArgs: 0,
    run({ app, flags, api, stdout, json, identity }) {
      const global = flags.global === true;
      const items = o.read(api, global ? null : app, identity);
      if (json) writeJson(stdout, o.json(items, global));
      else stdout.write(o.text(items, global));
      return 0;
    },
  };
}

/** cron:suspend and cron:resume: the same shape, one task or the whole app. */
function toggle(verb: 'suspend' | 'resume', summary: string): CommandSpec {
  return {
    summary,
    usage: `cron:${verb} [app] [id]`,
    examples: [`paas cron:${verb} myapp`, `paas cron:${verb} myapp <id>`],
    app: 'required',
    access: 'app',
    maxArgs: 1,
    run({ app, args, api, stdout }) {
      stdout.write(`${api.cron[verb](app, args[0] ?? null)}\n`);
      return 0;
    },
  };
}

export default definePlugin({
  name: 'cron',
  commands: {
    'cron:list': appOrGlobal({
      summary: "List the app.json cron tasks of the live release: id, schedule, state, last run and its result (--global: every app's)",
      usage: 'cron:list [app] | --global [--json]',
      examples: ['paas cron:list myapp', 'paas cron:list --global --json'],
      read: (api, app) => (app === null ? api.cron.listAll() : api.cron.list(app)),
      text: (tasks, global) => listText(tasks, global),
      json: (tasks) => tasks,
    }),
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
    'cron:suspend': toggle(
      'suspend',
      'Stop running one task (ID) or all of the app on schedule, until cron:resume; survives restarts; running runs finish',
    ),
    'cron:resume': toggle('resume', 'Run a suspended task (ID), or the whole app and all its tasks, on schedule again'),
    'cron:report': appOrGlobal({
      summary: "Show an app's cron: task count, suspension, runs going on, time limit (--global: every app)",
      usage: 'cron:report [app] | --global [--json]',
      examples: ['paas cron:report myapp', 'paas cron:report --global --json'],
      read: (api, app, identity) => (app === null ? api.apps.list(identity).map((a) => api.cron.report(a.name)) : [api.cron.report(app)]),
      text: (reports) => reports.map(reportText).join(''),
      json: (reports, global) => (global ? reports : reports[0]),
    }),
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
