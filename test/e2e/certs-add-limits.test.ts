// Issue 21, hole 8, as an attacker with a developer key would try it over real OpenSSH: certs:add
// bundles crafted to make a backtracking parser quadratic (256 KiB of BEGIN lines without END took
// the control plane's event loop ~2 s each) must not stall other users' commands, and a bundle over
// the 256 KiB cap is refused with one line before it is parsed. Nothing changes either way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { requireDocker } from '../helpers/docker.js';
import { PaasServer, type SshResult } from '../helpers/paas-server.js';

const APP = 'pemapp';
const LINE = '-----BEGIN A-----\n';
let paas: PaasServer;
let dev: { priv: string; pub: string };

before(async () => {
  await requireDocker();
  paas = await new PaasServer().start();
  assert.equal((await paas.ssh(`apps:create ${APP}`)).exitCode, 0);
  dev = await paas.addDeveloper('dev', [APP]);
});
after(async () => {
  await paas?.destroy();
});

const asDev = (cmd: string, input?: string) => paas.ssh(cmd, { key: dev.priv, input });

function oneLine(r: SshResult, re: RegExp, what: string): void {
  assert.notEqual(r.exitCode, 0, what);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], re, what);
}

async function noCertificates(): Promise<void> {
  const r = await paas.ssh(`certs:report ${APP} --json`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).certificates, [], 'nothing was stored');
}

test('crafted bundles within the cap do not stall the control plane', async (t) => {
  const crafted = LINE.repeat(Math.floor((256 * 1024) / LINE.length));
  const attacks = Array.from({ length: 4 }, () => asDev(`certs:add ${APP}`, crafted));
  let settled = false;
  const all = Promise.all(attacks).finally(() => {
    settled = true;
  });
  // meanwhile another user's command: timed while the attacks are parsed, and at least three times
  const probes: number[] = [];
  await new Promise((r) => setTimeout(r, 300));
  while (!settled || probes.length < 3) {
    const t0 = Date.now();
    const r = await paas.ssh(`certs:report ${APP}`);
    probes.push(Date.now() - t0);
    assert.equal(r.exitCode, 0, r.stderr);
  }
  t.diagnostic(`another user's command took ${probes.join(', ')} ms during the attack`);
  for (const r of await all) oneLine(r, /^error: no PEM certificate on stdin/, 'a crafted bundle');
  assert.ok(
    Math.max(...probes) < 1500,
    `a command took ${Math.max(...probes)} ms while the crafted bundles were parsed (${probes.join(', ')} ms)`,
  );
  await noCertificates();
});

test('a bundle over 256 KiB is refused with one line before it is parsed', async () => {
  const big = LINE.repeat(Math.ceil((256 * 1024 + 1) / LINE.length));
  oneLine(await asDev(`certs:add ${APP}`, big), /^error: stdin is larger than 262144 bytes$/, 'an over-cap bundle');
  await noCertificates();
});
