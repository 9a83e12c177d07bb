import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxApp, commitFiles, healthAppJson, push, viaProxy } from '../helpers/app-repo.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/base-images.js';
import { requireDocker } from '../helpers/docker.js';
import { PaasServer } from '../helpers/paas-server.js';
import { makeCa, makeCert } from '../helpers/test-certs.js';

// The commands scripts written for Dokku use, over real OpenSSH against a real `paas server` and
// Docker: config:set --encoded, config:export/import, url/urls, ports:set/report.

let paas: PaasServer;

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
});
after(async () => {
  await paas?.destroy();
});

async function deploy(app: string, files: Record<string, string>): Promise<void> {
  const dir = path.join(paas.dataDir, 'work', app);
  await commitFiles(dir, { ...files, 'app.json': healthAppJson() });
  const r = await push(paas, dir, app);
  assert.equal(r.exitCode, 0, r.output);
}

const releaseCount = async (app: string) => JSON.parse((await paas.ssh(`releases ${app} --json -n 1000`)).stdout).length as number;
const configOf = async (app: string) => JSON.parse((await paas.ssh(`config:export ${app} --format json`)).stdout) as Record<string, string>;

/** A refusal: non-zero exit, one line on stderr, and no change to config or releases. */
async function refused(app: string, command: string, input: string, pattern: RegExp): Promise<void> {
  const [releases, config] = [await releaseCount(app), await configOf(app)];
  const r = await paas.ssh(command, { input });
  assert.notEqual(r.exitCode, 0, `${command} should fail`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.equal(await releaseCount(app), releases, 'no release was made');
  assert.deepEqual(await configOf(app), config, 'config is unchanged');
}

const tricky = 'line one\nline "two" it\'s\n\t$HOME `x` \\ end';

test('config:set --encoded carries multi-line and quoted values through SSH; bad base64 changes nothing', async () => {
  const app = 'enc';
  await deploy(app, busyboxApp('enc'));
  const b64 = Buffer.from(tricky).toString('base64');
  const r = await paas.ssh(`config:set --encoded ${app} TRICKY=${b64} PLAIN=${Buffer.from('v=1').toString('base64')}`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /v2 is live/);
  assert.equal((await paas.ssh(`config:get ${app} TRICKY --json`)).stdout.trim(), JSON.stringify(tricky));
  assert.deepEqual(await configOf(app), { PLAIN: 'v=1', TRICKY: tricky });
  const env = (await viaProxy(paas, `${app}.paas.test`, '/cgi-bin/env')).body;
  assert.match(env, /^PLAIN=v=1$/m, 'the decoded value reaches the container');

  await refused(app, `config:set --encoded ${app} BAD=not*base64`, '', /BAD is not valid base64/);
  await refused(app, `config:set --encoded ${app} OK=${b64} BAD=abc`, '', /BAD is not valid base64/);
  await refused(app, `config:set --encoded ${app} BIN=//79`, '', /does not decode to UTF-8/);
});

test('config:export in each format reads back through config:import as one release; malformed input is refused whole', async () => {
  const app = 'exp';
  await deploy(app, busyboxApp('exp'));
  const set = await paas.ssh(`config:set --encoded ${app} TRICKY=${Buffer.from(tricky).toString('base64')} A=MQ==`);
  assert.equal(set.exitCode, 0, set.stderr);
  const source = await configOf(app);

  const shell = await paas.ssh(`config:export ${app}`);
  assert.equal(shell.exitCode, 0, shell.stderr);
  assert.match(shell.stdout, /^export A='1'$/m);
  const envfile = await paas.ssh(`config:export ${app} --format envfile`);
  assert.match(envfile.stdout, /^A="1"$/m);

  for (const [i, text] of [shell.stdout, envfile.stdout, JSON.stringify(source)].entries()) {
    const target = `imp${i}`;
    await deploy(target, busyboxApp(target));
    const before = await releaseCount(target);
    const r = await paas.ssh(`config:import ${target}`, { input: text });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /Imported A, TRICKY on imp\d: v2 is live/);
    assert.equal(await releaseCount(target), before + 1, 'one release for the whole import');
    assert.deepEqual(await configOf(target), source);
  }

  for (const [input, why] of [
    ['A=1\nthis line is not a pair\n', /line 2 is not KEY=VALUE/],
    ['A="never closed\n', /double quote is never closed/],
    ['GOOD=1\n1BAD=x\n', /invalid config key '1BAD'/],
    ['{"A": {"nested": true}}', /must be a string, number or boolean/],
    ['{"A": 1', /not valid JSON/],
    ['\n# nothing\n', /holds no config vars/],
    ['A=two words\n', /unexpected text after the value/],
  ] as const)
    await refused(app, `config:import ${app}`, input, why);
  await refused(app, `config:export ${app} --format yaml`, '', /--format must be one of shell, json, envfile/);
});

test('url and urls print the app URLs with scheme, custom domains after the global host', async () => {
  const app = 'urlapp';
  await deploy(app, busyboxApp('urls'));
  const url = await paas.ssh(`url ${app}`);
  assert.equal(url.exitCode, 0, url.stderr);
  assert.equal(url.stdout, 'http://urlapp.paas.test\n');
  assert.equal((await paas.ssh(`domains:add ${app} www.urls.example`)).exitCode, 0);
  const urls = await paas.ssh(`urls ${app}`);
  assert.equal(urls.stdout, 'http://urlapp.paas.test\nhttp://www.urls.example\n');
  assert.deepEqual(JSON.parse((await paas.ssh(`urls ${app} --json`)).stdout), ['http://urlapp.paas.test', 'http://www.urls.example']);
  // once a certificate covers a host, its URL is https (the other host stays http)
  const ca = await makeCa(path.join(paas.dataDir, 'ca'));
  const cert = await makeCert(ca, ['www.urls.example']);
  const add = await paas.ssh(`certs:add ${app}`, { input: cert.bundle });
  assert.equal(add.exitCode, 0, add.stderr);
  assert.equal((await paas.ssh(`urls ${app}`)).stdout, 'http://urlapp.paas.test\nhttps://www.urls.example\n');
  const missing = await paas.ssh('url no-such-app');
  assert.notEqual(missing.exitCode, 0);
  assert.equal((await paas.ssh(`url ${app} extra`)).exitCode, 2);
});

test('ports:set chooses which EXPOSEd port gets the traffic; the default is unchanged; unknown ports are refused', async () => {
  const app = 'twoports';
  // 5000 and 8080 answer differently; with both EXPOSEd the default stays 5000
  await deploy(app, {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCOPY alt /alt\nEXPOSE 5000 8080\nCMD httpd -p 8080 -h /alt; exec httpd -f -p 5000 -h /www\n`,
    'www/index.html': 'five thousand\n',
    'alt/index.html': 'eighty eighty\n',
  });
  const host = `${app}.paas.test`;
  assert.equal((await viaProxy(paas, host)).body, 'five thousand\n');
  const before = await paas.ssh(`ports:report ${app} --json`);
  assert.deepEqual(JSON.parse(before.stdout), {
    chosen: null,
    inUse: 5000,
    exposed: [5000, 8080],
    reason: 'the default (the image EXPOSEs 5000, 8080; choose one with ports:set)',
  });

  const set = await paas.ssh(`ports:set ${app} 8080`);
  assert.equal(set.exitCode, 0, set.stderr);
  assert.match(set.stdout, /routes to container port 8080: v2 is live/);
  assert.equal((await viaProxy(paas, host)).body, 'eighty eighty\n');
  const report = await paas.ssh(`ports:report ${app}`);
  assert.match(report.stdout, /Port in use:\s+8080/);
  assert.match(report.stdout, /Why:\s+chosen with ports:set/);

  for (const [arg, why] of [
    ['9999', /EXPOSEs 5000, 8080, not 9999/],
    ['0', /'0' is not a port/],
    ['70000', /'70000' is not a port/],
    ['http', /'http' is not a port/],
  ] as const) {
    const r = await paas.ssh(`ports:set ${app} ${arg}`);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.equal((await viaProxy(paas, host)).body, 'eighty eighty\n', 'still routed to 8080');
  }
  assert.equal(await releaseCount(app), 2, 'refusals made no release');

  const back = await paas.ssh(`ports:set ${app} default`);
  assert.equal(back.exitCode, 0, back.stderr);
  assert.equal((await viaProxy(paas, host)).body, 'five thousand\n');
});
