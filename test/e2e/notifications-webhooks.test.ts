import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, healthAppJson, push } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { waitFor } from '../helpers/wait.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Notifications end to end: webhooks added over real OpenSSH, told by a real `paas server` about
// real pushes, config changes and a container killed in the real Docker engine, delivered over
// HTTP to a receiver in this test that checks the HMAC itself. A receiver that hangs must not
// delay a push; one that answers 500 is retried and reported by notifications:list.

const APP = 'notified';
let paas: PaasServer;
let receiver: WebhookReceiver;
let secret = '';

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  receiver = await new WebhookReceiver().listen();
  // 3 attempts 100 ms apart (instead of 5 from 2 s); a hanging receiver is given up on only after 60 s
  paas = await new PaasServer({ PAAS_NOTIFY_ATTEMPTS: '3', PAAS_NOTIFY_RETRY_BASE_MS: '100', PAAS_NOTIFY_TIMEOUT_MS: '60000' }).start();
});
after(async () => {
  await paas?.destroy();
  await receiver?.close();
});

/** Refused with exit `code`, one line on stderr matching `why`, nothing on stdout. */
async function refused(command: string, why: RegExp, code = 2): Promise<void> {
  const r = await paas.ssh(command);
  assert.equal(r.exitCode, code, `${command}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, why, command);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${command}: ${r.stderr}`);
  assert.equal(r.stdout, '', command);
}

function verify(r: { headers: Record<string, unknown>; body: string }, key: string): boolean {
  const ts = String(r.headers['x-paas-timestamp']);
  const want = `sha256=${createHmac('sha256', key).update(`${ts}.${r.body}`).digest('hex')}`;
  return r.headers['x-paas-signature'] === want;
}

const listJson = async () => {
  const r = await paas.ssh('notifications:list --json');
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout) as Array<{
    name: string;
    url: string;
    events: string[];
    last: { event: string; ok: boolean; status: number | null; error: string | null; attempts: number } | null;
  }>;
};

test('bad input is refused with one line and changes nothing', async () => {
  await refused(`notifications:add ftp1 ftp://${'x'}.example/hook`, /ftp is not http or https/);
  await refused('notifications:add nohost http://', /invalid webhook URL/);
  await refused('notifications:add creds not-a-url', /invalid webhook URL/);
  await refused(
    `notifications:add ev ${receiver.url('/ok')} --events deploy.failed,deploy.exploded`,
    /unknown event 'deploy.exploded'; events are: deploy.succeeded/,
  );
  await refused(`notifications:add ev ${receiver.url('/ok')} --events ,`, /comma-separated list/);
  await refused(`notifications:add Bad_Name ${receiver.url('/ok')}`, /invalid notification name 'Bad_Name'/);
  await refused('notifications:add only-a-name', /usage|argument/i);
  await refused('notifications:remove nobody', /no notification 'nobody'/, 1);
  await refused('notifications:test nobody', /no notification 'nobody'/, 1);
  assert.deepEqual(await listJson(), []);
  assert.equal(receiver.received.length, 0);
});

test('notifications:test arrives signed with the secret shown once, in a Slack- and Discord-readable payload', async () => {
  const add = await paas.ssh(`notifications:add hook ${receiver.url('/ok/hook')}`);
  assert.equal(add.exitCode, 0, add.stderr);
  assert.match(add.stdout, /Added notification hook -> http:\/\/127\.0\.0\.1:\d+\/ok\/hook \(events: all\)/);
  secret = /Signing secret[^:]*: (\S+)/.exec(add.stdout)?.[1] ?? '';
  assert.match(secret, /^whsec_[A-Za-z0-9_-]{40,}$/);
  await refused(`notifications:add hook ${receiver.url('/ok/other')}`, /notification 'hook' already exists/, 1);

  const t = await paas.ssh('notifications:test hook');
  assert.equal(t.exitCode, 0, t.stderr);
  assert.match(t.stdout, /Delivered a test event to hook: HTTP 200 in \d+ ms/);
  const [got] = receiver.to('/ok/hook');
  assert.ok(got, 'the test event arrived');
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(got.headers['x-paas-event'], 'test');
  assert.ok(verify(got, secret), 'the HMAC verifies with the secret printed at add');
  assert.ok(!verify({ headers: got.headers, body: got.body.replace('test', 'tset') }, secret), 'a changed body does not verify');
  assert.ok(!verify(got, `${secret}x`), 'another secret does not verify');
  const age = Math.abs(Date.now() / 1000 - Number(got.headers['x-paas-timestamp']));
  assert.ok(age < 60, `the timestamp is now (${age} s off)`);
  assert.equal(got.json.event, 'test');
  assert.equal(typeof got.json.text, 'string');
  assert.equal(got.json.content, got.json.text);
  assert.match(String(got.json.text), /test notification for 'hook'/);
  assert.ok(!Number.isNaN(Date.parse(String(got.json.time))));

  // the secret is never shown again, and tokens in Slack/Discord URLs are masked in list
  const slackToken = 'Zq8NvPZ3kE1pLw7yTqR5sXa2';
  const slack = await paas.ssh(`notifications:add slack https://hooks.slack.com/services/T0001/B0002/${slackToken} --events node.down`);
  assert.equal(slack.exitCode, 0, slack.stderr);
  const text = await paas.ssh('notifications:list');
  const json = await paas.ssh('notifications:list --json');
  for (const out of [text.stdout, json.stdout, slack.stdout]) {
    assert.ok(!out.includes(slackToken), `no token in: ${out}`);
    assert.ok(!out.includes(secret), 'no secret in list');
  }
  assert.match(text.stdout, /slack\s+https:\/\/hooks\.slack\.com\/services\/T0001\/B0002\/\*\*\*\s+node\.down/);
  assert.match(text.stdout, /hook\s+http:\/\/127\.0\.0\.1:\d+\/ok\/hook\s+all\s+0\s+delivered test \(HTTP 200\)/);
  assert.ok(!json.stdout.includes('whsec_'));
});

test('a failing push tells deploy.failed, a good one deploy.succeeded, and a hanging receiver delays neither', async () => {
  for (const [name, where, events] of [
    ['stuck', '/hang', 'deploy.failed,deploy.succeeded'],
    ['broken', '/fail', 'deploy.succeeded'],
  ]) {
    const r = await paas.ssh(`notifications:add ${name} ${receiver.url(where!)} --events ${events}`);
    assert.equal(r.exitCode, 0, r.stderr);
  }
  const dir = path.join(paas.dataDir, 'work', APP);
  await commitFiles(dir, { Dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo broken build && exit 3\n` });
  const bad = await push(paas, dir, APP);
  assert.notEqual(bad.exitCode, 0, bad.output);
  const failed = await waitFor('deploy.failed at the receiver', async () =>
    receiver.to('/ok/hook').find((r) => r.json.event === 'deploy.failed'),
  );
  assert.ok(verify(failed, secret));
  assert.equal(failed.json.app, APP);
  assert.match(String(failed.json.message), /failed at build/);
  assert.match(String(failed.json.text), new RegExp(`deploy\\.failed ${APP}`));
  // the hanging receiver holds that delivery open...
  await waitFor('the hanging receiver to hold a delivery', async () => receiver.to('/hang').some((r) => r.open));

  // ...while the next push runs as usual and finishes
  await commitFiles(dir, busyboxApp('notified-1', { 'app.json': healthAppJson() }));
  const started = Date.now();
  const good = await push(paas, dir, APP);
  const took = Date.now() - started;
  assert.equal(good.exitCode, 0, good.output);
  const version = Number(/Release v(\d+) live/.exec(good.output)?.[1]);
  const hanging = receiver.to('/hang');
  assert.ok(
    hanging.length === 1 && hanging[0]!.open,
    `the push finished (${took} ms) while the hanging receiver still held the first delivery`,
  );
  assert.ok(took < 60_000, `the push took ${took} ms`);

  const ok = await waitFor('deploy.succeeded at the receiver', async () =>
    receiver.to('/ok/hook').find((r) => r.json.event === 'deploy.succeeded'),
  );
  assert.ok(verify(ok, secret));
  assert.equal(ok.json.app, APP);
  assert.equal(ok.json.release, version);
  assert.match(String(ok.json.message), new RegExp(`release v${version} is live`));

  // the 500-ing receiver got the event 3 times (PAAS_NOTIFY_ATTEMPTS), then list reports it
  const last = await waitFor(
    'the failed delivery to be reported',
    async () => (await listJson()).find((n) => n.name === 'broken' && n.last)?.last,
  );
  assert.deepEqual(
    { event: last.event, ok: last.ok, status: last.status, attempts: last.attempts },
    { event: 'deploy.succeeded', ok: false, status: 500, attempts: 3 },
  );
  assert.match(String(last.error), /HTTP 500: receiver is broken/);
  const tries = receiver.to('/fail');
  assert.equal(tries.length, 3);
  assert.ok(tries.every((r) => r.json.event === 'deploy.succeeded' && r.json.id === tries[0]!.json.id));
  assert.ok(tries[2]!.at - tries[0]!.at >= 300 - 50, 'retried with backoff (100 ms, then 200 ms)');
  const text = await paas.ssh('notifications:list');
  assert.match(text.stdout, /broken\s+\S+\s+deploy\.succeeded\s+0\s+FAILED deploy\.succeeded after 3 attempts: HTTP 500/);
  assert.match(text.stdout, /stuck\s+\S+\s+deploy\.succeeded,deploy\.failed\s+2\s+never/);
});

test('a config change that rolls out and a crashed container are told too; a developer key cannot touch notifications', async () => {
  const before = receiver.to('/ok/hook').length;
  const cfg = await paas.ssh(`config:set ${APP} NOTIFY_MARK=1`);
  assert.equal(cfg.exitCode, 0, cfg.stderr);
  const rolled = await waitFor('deploy.succeeded of the config change', async () =>
    receiver
      .to('/ok/hook')
      .slice(before)
      .find((r) => r.json.event === 'deploy.succeeded'),
  );
  assert.match(String(rolled.json.message), /NOTIFY_MARK/);

  const [web] = await dockerClient().listContainers({
    filters: { label: [`paas.app=${APP}`, 'paas.process=web', runFilter(paas.labels)] },
  });
  assert.ok(web, 'the web container runs');
  await dockerClient().getContainer(web.Id).kill();
  const crash = await waitFor('app.crashed at the receiver', async () =>
    receiver.to('/ok/hook').find((r) => r.json.event === 'app.crashed'),
  );
  assert.ok(verify(crash, secret));
  assert.equal(crash.json.app, APP);
  assert.match(String(crash.json.message), /container web\.1 exited with code 137/);

  const dev = await paas.addDeveloper('dev', [APP]);
  for (const cmd of [
    'notifications:list',
    `notifications:add sneaky ${receiver.url('/ok/dev')}`,
    'notifications:remove hook',
    'notifications:test hook',
  ]) {
    const r = await paas.ssh(cmd, { key: dev.priv });
    assert.equal(r.exitCode, 1, cmd);
    assert.match(r.stderr, /needs an admin key/, cmd);
  }
});

test('notifications:remove stops the deliveries and forgets the receiver', async () => {
  const r = await paas.ssh('notifications:remove stuck');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /Removed notification stuck/);
  await waitFor('the hanging delivery to be cancelled', async () => receiver.to('/hang').every((x) => !x.open));
  assert.deepEqual(
    (await listJson()).map((n) => n.name),
    ['broken', 'hook', 'slack'],
  );
  await refused('notifications:test stuck', /no notification 'stuck'/, 1);
});
