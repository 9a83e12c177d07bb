import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { busyboxApp, commitFiles, push, healthAppJson } from '../helpers/app-repo.js';
import { ensureBusyboxImage } from '../helpers/base-images.js';
import { dockerClient, requireDocker, runFilter } from '../helpers/docker.js';
import { PaasServer, sshOptions } from '../helpers/paas-server.js';

let paas: PaasServer;

before(async () => {
  await requireDocker();
  await ensureBusyboxImage();
  paas = await new PaasServer().start();
  const repo = path.join(paas.dataDir, 'work', 'tty');
  await commitFiles(repo, busyboxApp('tty', { 'app.json': healthAppJson() }));
  const r = await push(paas, repo, 'ttyapp');
  assert.equal(r.exitCode, 0, r.output);
  assert.equal((await paas.ssh('config:set ttyapp GREETING=hi-from-config')).exitCode, 0);
});
after(async () => {
  await paas?.destroy();
});

const ssh = (flags: string[], command: string, input = '') =>
  execa('ssh', [...flags, ...sshOptions(paas.key.priv, paas.ports.ssh), 'paas@127.0.0.1', command], {
    reject: false,
    input,
    timeout: 60_000,
  });

test('run gets a pty when the client asks for one (ssh -tt), plain pipes otherwise; config and exit code pass through', async () => {
  // the client's stdin ends at once; what the command prints a second later must still arrive
  const withPty = await ssh(['-tt'], 'run ttyapp sh -c "sleep 1; tty; echo $GREETING; exit 5"');
  assert.equal(withPty.exitCode, 5, String(withPty.stderr));
  assert.match(String(withPty.stdout), /\/dev\/pts\/\d+/);
  assert.match(String(withPty.stdout), /hi-from-config/);
  // piped input over a pty ends as ^D does at a terminal, so a reader of stdin finishes
  const cat = await ssh(['-tt'], 'run ttyapp cat', 'piped-line\n');
  assert.equal(cat.exitCode, 0, String(cat.stderr));
  assert.match(String(cat.stdout), /piped-line/);
  const plain = await ssh(['-T'], 'run ttyapp sh -c "tty; exit 0"');
  assert.equal(plain.exitCode, 0, String(plain.stderr));
  assert.equal(String(plain.stdout), 'not a tty');
  const oneOffs = await dockerClient().listContainers({
    all: true,
    filters: { label: ['paas.app=ttyapp', 'paas.oneoff', runFilter(paas.labels)] },
  });
  assert.equal(oneOffs.length, 0, 'one-off containers are removed');
});
