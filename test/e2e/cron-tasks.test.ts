import assert from 'node:assert/strict';
import path from 'node:path';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { cronTaskId } from '../../src/cron/cron-task.js';
import { busyboxApp, commitFiles, push } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';

// app.json cron as Dokku defines it, over real OpenSSH, git push, Docker and SQLite: tasks every
// few seconds (6-field schedules) whose output shows in `logs -p cron` with the app's config;
// suspend surviving a control-plane restart, missed runs not caught up; forbid skips, replace
// stops the old run; a deploy in the middle of a run neither doubles nor kills it; the tasks follow
// rollbacks; the time limit; bad app.json refused at push with one line; a developer key cannot
// touch another app's cron. One server for the whole file; the steps build on each other.

const APP = 'cronapp';
let paas: PaasServer;
let dir: string;

const TICK = { command: "sh -c 'echo tick-$MARK'", schedule: '*/2 * * * * *' };
const TOCK = { command: "sh -c 'echo tock'", schedule: '*/2 * * * * *' };
const LONG = { command: "sh -c 'echo long-start; sleep 6; echo long-end'", schedule: '0 0 1 1 *', concurrency_policy: 'forbid' };
const FORBID = { command: 'sleep 5', schedule: '*/2 * * * * *', concurrency_policy: 'forbid' };
const REPLACE = { command: 'sleep 4', schedule: '*/3 * * * * *', concurrency_policy: 'replace' };
const id = (t: { command: string; schedule: string }) => cronTaskId(APP, t.command, t.schedule);

interface RunRow {
  id: number;
  task_id: string;
  release: number;
  container: string | null;
  started_at: string;
  finished_at: string | null;
  result: string;
  exit_code: number | null;
}

/** The runs the server recorded, read from its SQLite file (read-only). */
function runs(task?: { command: string; schedule: string }): RunRow[] {
  const db = new Database(path.join(paas.dataDir, 'paas.db'), { readonly: true, fileMustExist: true });
  try {
    const all = db.prepare('SELECT * FROM cron_runs ORDER BY id').all() as RunRow[];
    return task ? all.filter((r) => r.task_id === id(task)) : all;
  } finally {
    db.close();
  }
}

/** Runs that really started a container (not skipped), in start order. */
const started = (rs: RunRow[]) => rs.filter((r) => r.result !== 'skipped');

/** No two runs of a task started within `ms` of each other (a deploy or a restart never doubles one). */
function assertNoDoubles(rs: RunRow[], ms: number) {
  const times = started(rs).map((r) => Date.parse(r.started_at));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= ms, `two runs ${times[i]! - times[i - 1]!} ms apart`);
}

async function deploy(cron: unknown[], marker: string) {
  await commitFiles(dir, busyboxApp(marker, { 'app.json': JSON.stringify({ cron }) }));
  const r = await push(paas, dir, APP);
  assert.equal(r.exitCode, 0, r.output);
  return Number(/Release v(\d+) live/.exec(r.output)![1]);
}

async function ok(command: string, opts: { key?: string } = {}) {
  const r = await paas.ssh(command, opts);
  assert.equal(r.exitCode, 0, `${command}: ${r.stderr}`);
  return r.stdout;
}

const list = async () =>
  JSON.parse(await ok(`cron:list ${APP} --json`)) as Array<{ id: string; suspended: boolean; lastRun: { result: string } | null }>;

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  dir = path.join(paas.dataDir, 'work', APP);
});
after(async () => {
  await paas?.destroy();
});

let v1 = 0;

test('a task every 2 s runs with the config of the live release and its output shows in logs -p cron', async () => {
  v1 = await deploy([TICK, TOCK, LONG], 'one');
  await ok(`config:set ${APP} MARK=m1`);
  await waitFor('tick-m1 in logs -p cron', async () => (await ok(`logs ${APP} -p cron -n 50`)).includes('tick-m1'), 30_000, 500);
  const web = await ok(`logs ${APP} -p web -n 50`);
  assert.ok(!web.includes('tick-'), 'cron output is not under process web');
  const tasks = await list();
  assert.deepEqual(tasks.map((t) => t.id).sort(), [id(TICK), id(TOCK), id(LONG)].sort());
  await waitFor('a finished tick', async () => (await list()).find((t) => t.id === id(TICK))?.lastRun?.result === 'succeeded', 10_000, 300);
  const text = await ok(`cron:list ${APP}`);
  assert.match(text, /ID\s+SCHEDULE\s+STATE\s+LAST RUN\s+RESULT\s+COMMAND/);
  assert.ok(text.includes(id(LONG)) && text.includes('0 0 1 1 *'));
});

test('suspend survives a control-plane restart; missed runs are not caught up; resume runs it again', async () => {
  assert.match(await ok(`cron:suspend ${APP} ${id(TOCK)}`), /suspended/);
  await new Promise((r) => setTimeout(r, 300));
  const tocksBefore = started(runs(TOCK)).length;
  await paas.stop();
  const down = Date.now();
  // downtime spanning two of TICK's times
  await new Promise((r) => setTimeout(r, 4500));
  await paas.spawnServer();
  const up = Date.now();
  await waitFor('a tick after the restart', async () => runs(TICK).some((r) => Date.parse(r.started_at) > up), 15_000, 300);
  await new Promise((r) => setTimeout(r, 3000));
  const ticks = runs(TICK);
  assert.ok(!ticks.some((r) => Date.parse(r.started_at) > down && Date.parse(r.started_at) < up), 'nothing ran while down');
  // not caught up: no burst at start, runs stay 2 s apart across the restart
  assertNoDoubles(ticks, 1500);
  assert.equal(started(runs(TOCK)).length, tocksBefore, 'the suspended task did not run after the restart');
  assert.equal((await list()).find((t) => t.id === id(TOCK))!.suspended, true);
  await ok(`cron:resume ${APP} ${id(TOCK)}`);
  await waitFor('tock runs again', async () => started(runs(TOCK)).length > tocksBefore, 10_000, 300);
});

let v2 = 0;

test('forbid skips an overlapping run, replace stops the old one, and tasks gone from app.json stop', async () => {
  v2 = await deploy([FORBID, REPLACE, LONG], 'two');
  const live = Date.now();
  await waitFor(
    'a skipped forbid run and a replaced run',
    async () => runs(FORBID).some((r) => r.result === 'skipped') && runs(REPLACE).some((r) => r.result === 'replaced'),
    20_000,
    500,
  );
  // forbid: the runs that started never overlapped
  const f = started(runs(FORBID));
  for (let i = 1; i < f.length; i++)
    assert.ok(f[i - 1]!.finished_at && f[i - 1]!.finished_at! <= f[i]!.started_at, 'forbid runs overlapped');
  // replace: the old container was stopped before its 4 s sleep ended
  const replaced = runs(REPLACE).find((r) => r.result === 'replaced')!;
  assert.ok(Date.parse(replaced.finished_at!) - Date.parse(replaced.started_at) < 3900);
  const info = await dockerClient().getContainer(replaced.container!).inspect();
  assert.notEqual(info.State.ExitCode, 0);
  // the first release's tasks stopped when the second went live
  assert.ok(!runs(TICK).some((r) => Date.parse(r.started_at) > live + 1000), 'a task of the old release ran');
});

test('a deploy in the middle of a run neither doubles nor kills it; it finishes on its release', async () => {
  assert.match(await ok(`cron:run ${APP} ${id(LONG)} --detach`), /Started run #\d+ of task/);
  await waitFor('long-start', async () => (await ok(`logs ${APP} -p cron -n 200`)).includes('long-start'), 10_000, 300);
  const v3 = await deploy([FORBID, REPLACE, LONG], 'three');
  assert.equal(v3, v2 + 1);
  await waitFor('the long run ended', async () => runs(LONG).every((r) => r.result !== 'running'), 20_000, 300);
  const long = runs(LONG);
  assert.equal(long.length, 1, 'one run, not doubled');
  assert.deepEqual([long[0]!.result, long[0]!.exit_code, long[0]!.release], ['succeeded', 0, v2]);
  assert.match(await ok(`logs ${APP} -p cron -n 200`), /long-end/);
  assertNoDoubles(runs(FORBID), 1500);
  assertNoDoubles(runs(REPLACE), 2500);
  // a second cron:run of the forbid task while it runs is refused with one line
  await ok(`cron:run ${APP} ${id(LONG)} --detach`);
  const busy = await paas.ssh(`cron:run ${APP} ${id(LONG)}`);
  assert.notEqual(busy.exitCode, 0);
  assert.match(busy.stderr, /still running \(concurrency_policy forbid\)/);
  assert.equal(busy.stderr.trim().split('\n').length, 1);
});

test('the time limit stops a run and notifies cron.failed; cron:set and cron:report show it', async (t) => {
  const receiver = await new WebhookReceiver().listen();
  t.after(() => receiver.close());
  await ok(`notifications:add cronwatch ${receiver.url('/ok')} --events cron.failed`);
  assert.match(await ok(`cron:set ${APP} timeout 2s`), /2 s/);
  await waitFor('the long run ended', async () => runs(LONG).every((r) => r.result !== 'running'), 20_000, 300);
  const t0 = Date.now();
  const r = await paas.ssh(`cron:run ${APP} ${id(LONG)}`);
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stdout, /long-start/);
  assert.ok(!r.stdout.includes('long-end'));
  assert.ok(Date.now() - t0 < 6000);
  await waitFor('timed-out recorded', async () => runs(LONG).at(-1)!.result === 'timed-out', 5000, 200);
  const report = await ok(`cron:report ${APP}`);
  assert.match(report, /Cron task count:\s+3/);
  assert.match(report, /Time limit:\s+2 s/);
  assert.match(await ok(`cron:set ${APP} timeout`), /86400 s/);
  // other tasks of the release may time out under the 2 s limit too: find the long one's
  const ofLong = () => receiver.to('/ok').find((r) => String(r.json.message).includes(id(LONG)))?.json;
  await waitFor('cron.failed delivered', async () => ofLong() !== undefined, 10_000, 200);
  const notice = ofLong()!;
  assert.equal(notice.event, 'cron.failed');
  assert.equal(notice.app, APP);
  assert.match(String(notice.message), new RegExp(`cron task ${id(LONG)} of ${APP} .*ran past its time limit`));
  await ok('notifications:remove cronwatch');
});

test('the tasks follow a rollback', async () => {
  await ok(`releases:rollback ${APP} v${v1}`);
  await waitFor('the first release tasks back', async () => (await list()).some((t) => t.id === id(TICK)), 10_000, 300);
  assert.ok(!(await list()).some((t) => t.id === id(FORBID)));
  await ok(`cron:suspend ${APP}`);
  assert.ok((await list()).every((t) => t.suspended));
});

test('bad app.json cron fails the push with one line and deploys nothing', async () => {
  const before = await ok(`releases ${APP}`);
  for (const [cron, why] of [
    [[{ command: 'true', schedule: '61 * * * *' }], /cron\[0\]\.schedule "61 \* \* \* \*" is invalid/],
    [[{ command: 'date && echo hi', schedule: '@daily' }], /cron\[0\]\.command has '&&' outside quotes/],
    [
      [{ command: 'true', schedule: '@daily', concurrency_policy: 'sometimes' }],
      /concurrency_policy must be one of allow, forbid, replace/,
    ],
  ] as const) {
    await commitFiles(dir, busyboxApp('bad', { 'app.json': JSON.stringify({ cron }) }));
    const r = await push(paas, dir, APP);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.output, why);
    await execGitReset();
  }
  assert.equal(await ok(`releases ${APP}`), before);
});

/** Drops the refused commit so the next push starts from what the server has. */
async function execGitReset() {
  await execa('git', ['-C', dir, 'reset', '-q', '--hard', 'HEAD~1']);
}

test('bad commands get one line; a developer key cannot touch another app cron', async () => {
  for (const [cmd, why] of [
    [`cron:run ${APP} nosuchid`, /has no cron task 'nosuchid'/],
    [`cron:suspend ${APP} nosuchid`, /has no cron task 'nosuchid'/],
    [`cron:set ${APP} timeout forever`, /timeout must be a duration/],
    [`cron:set ${APP} mailto x@y`, /unknown cron setting 'mailto'/],
  ] as const) {
    const r = await paas.ssh(cmd);
    assert.notEqual(r.exitCode, 0, cmd);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  await ok('apps:create devapp');
  const dev = await paas.addDeveloper('dev', ['devapp']);
  assert.match(await ok('cron:list devapp', { key: dev.priv }), /No cron tasks/);
  await ok(`cron:resume ${APP}`);
  for (const cmd of [
    `cron:list ${APP}`,
    `cron:suspend ${APP}`,
    `cron:run ${APP} ${id(TICK)}`,
    `cron:set ${APP} timeout 1s`,
    'cron:list --global',
  ]) {
    const r = await paas.ssh(cmd, { key: dev.priv });
    assert.notEqual(r.exitCode, 0, cmd);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const all = JSON.parse(await ok('cron:list --global --json')) as Array<{ app: string; suspended: boolean }>;
  assert.ok(all.length >= 3 && all.every((t) => t.app === APP && !t.suspended), 'nothing the developer tried changed');
  assert.match(await ok(`cron:report ${APP}`), /Time limit:\s+86400 s/);
});
