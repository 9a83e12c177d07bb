// The real `paas` client against git remotes (and --host) that put an ssh option where the host or
// user goes: it refuses them with one line and exit 2 before running ssh, so the ProxyCommand
// they carry never runs (the marker files they would touch do not exist afterwards).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { paasCli } from '../helpers/paas-server.js';

/** `${IFS}`, spelled so the shell-looking text stays literal */
const IFS = ['$', '{IFS}'].join('');
let tmp: string;
let repo: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-client-remote-'));
  repo = path.join(tmp, 'repo');
  await execa('git', ['init', '-q', repo]);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('a git remote whose user or host begins with - is refused, exit 2, and its ProxyCommand never runs', async () => {
  const remotes: Array<[string, string]> = [
    [`ssh://-oProxyCommand=touch${IFS}pwned1@127.0.0.1/app`, `user '-oProxyCommand=touch${IFS}pwned1'`],
    [`ssh://-oProxyCommand=touch${IFS}${tmp}/pwned2`, `host '-oProxyCommand=touch${IFS}'`],
    [`-oProxyCommand=touch${IFS}pwned3@127.0.0.1:app`, `user '-oProxyCommand=touch${IFS}pwned3'`],
    [`-oProxyCommand=touch${IFS}pwned4:app`, `host '-oProxyCommand=touch${IFS}pwned4'`],
  ];
  const results: Array<{ url: string; what: string; exitCode?: number; stdout: string; stderr: string }> = [];
  for (const [url, what] of remotes) {
    await execa('git', ['-C', repo, 'remote', 'remove', 'paas'], { reject: false });
    await execa('git', ['-C', repo, 'remote', 'add', '--', 'paas', url]);
    // `help` makes a valid ssh host name of the command words: before the fix, ssh ran the ProxyCommand
    const r = await paasCli(['help'], { cwd: repo, env: { PATH: process.env.PATH } });
    results.push({ url, what, exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) });
  }
  assert.deepEqual(fs.readdirSync(repo), ['.git'], 'no marker in the checkout');
  assert.deepEqual(fs.readdirSync(tmp), ['repo'], 'no marker next to it');
  for (const { url, what, ...r } of results) {
    assert.deepEqual(
      r,
      {
        exitCode: 2,
        stdout: '',
        stderr: `paas: refusing the git remote '${url}': its ${what} begins with '-', which ssh would read as an option`,
      },
      url,
    );
  }
});

test('--host with a user beginning with - is refused the same way', async () => {
  const marker = path.join(tmp, 'pwned5');
  const host = `-oProxyCommand=touch ${marker}@127.0.0.1`;
  const r = await paasCli(['help', '--host', host], { cwd: tmp });
  assert.equal(fs.existsSync(`${marker}@127.0.0.1`), false);
  assert.deepEqual(fs.readdirSync(tmp), ['repo']);
  assert.deepEqual(
    { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr },
    {
      exitCode: 2,
      stdout: '',
      stderr: `paas: refusing --host '${host}': its user '-oProxyCommand=touch ${marker}' begins with '-', which ssh would read as an option`,
    },
  );
});
