import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerPlan, parseProbe } from '../../../../src/swarm/cluster/docker-on-node.js';

const probe = (cli: string, server: string, uid = '0') => `cli=${cli}\nserver=${server}\napt=/usr/bin/apt-get\nuid=${uid}\n`;

test('a running engine is used as it is; a CLI whose daemon does not answer is started, not reinstalled', () => {
  assert.deepEqual(dockerPlan(probe('/usr/bin/docker', '20.10.24')), { kind: 'present', version: '20.10.24' });
  assert.deepEqual(dockerPlan(probe('/usr/bin/docker', '')), { kind: 'start', command: 'systemctl enable --now docker' });
});

test("no Docker on a Debian host: Debian's docker.io is installed, with sudo when not root", () => {
  const root = dockerPlan(probe('', ''));
  assert.equal(root.kind, 'install');
  assert.match(
    (root as { command: string }).command,
    /^env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker\.io && systemctl enable --now docker$/,
  );
  const user = dockerPlan(probe('', '', '1000'));
  assert.match((user as { command: string }).command, /^sudo -n env DEBIAN_FRONTEND=.* && sudo -n systemctl enable --now docker$/);
});

test('no Docker and no apt-get: refused with what to do', () => {
  const plan = dockerPlan('cli=\nserver=\napt=\nuid=0\n');
  assert.equal(plan.kind, 'unsupported');
  assert.match((plan as { why: string }).why, /install Docker on the node first/);
});

test('the probe output parses line by line; values may hold "="', () => {
  assert.deepEqual(parseProbe('cli=/a=b\nnoise\nuid=0'), { cli: '/a=b', uid: '0' });
});
