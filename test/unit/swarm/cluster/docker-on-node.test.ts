import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerPlan, parseProbe } from '../../../../src/swarm/cluster/docker-on-node.js';

test('a running engine is used as it is', () => {
  assert.deepEqual(dockerPlan('cli=/usr/bin/docker\nserver=20.10.24\napt=/usr/bin/apt-get\nuid=0\n'), {
    kind: 'present',
    version: '20.10.24',
  });
});

test("no Docker on a Debian host: Debian's docker.io is installed, with sudo when not root", () => {
  const root = dockerPlan('cli=\nserver=\napt=/usr/bin/apt-get\nuid=0\n');
  assert.equal(root.kind, 'install');
  assert.match(
    (root as { command: string }).command,
    /^env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker\.io && systemctl enable --now docker$/,
  );
  const user = dockerPlan('cli=\nserver=\napt=/usr/bin/apt-get\nuid=1000\n');
  assert.match((user as { command: string }).command, /^sudo -n env DEBIAN_FRONTEND=.* && sudo -n systemctl enable --now docker$/);
});

test('a CLI whose daemon does not answer is started, not reinstalled', () => {
  assert.deepEqual(dockerPlan('cli=/usr/bin/docker\nserver=\napt=/usr/bin/apt-get\nuid=0\n'), {
    kind: 'start',
    command: 'systemctl enable --now docker',
  });
});

test('no Docker and no apt-get: refused with what to do', () => {
  const plan = dockerPlan('cli=\nserver=\napt=\nuid=0\n');
  assert.equal(plan.kind, 'unsupported');
  assert.match((plan as { why: string }).why, /install Docker on the node first/);
});

test('the probe output parses line by line; values may hold "="', () => {
  assert.deepEqual(parseProbe('cli=/a=b\nnoise\nuid=0'), { cli: '/a=b', uid: '0' });
});
