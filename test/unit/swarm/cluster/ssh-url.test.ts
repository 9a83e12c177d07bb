import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPort, parseSshUrl } from '../../../../src/swarm/cluster/ssh-url.js';

test('ssh://USER@ADDR[:PORT] parses, port 22 by default, IPv6 in brackets', () => {
  assert.deepEqual(parseSshUrl('ssh://root@10.0.0.12'), { user: 'root', host: '10.0.0.12', port: 22 });
  assert.deepEqual(parseSshUrl('ssh://deploy@node-2.example.com:2201'), { user: 'deploy', host: 'node-2.example.com', port: 2201 });
  const v6 = parseSshUrl('ssh://root@[fd00::2]:22');
  assert.equal(v6.host, 'fd00::2');
  assert.equal(hostPort(v6), '[fd00::2]:22');
});

test('anything else is bad input (exit 2) naming what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['root@10.0.0.1', /not a URL/],
    ['http://root@10.0.0.1', /scheme must be ssh/],
    ['ssh://10.0.0.1', /a user is needed/],
    ['ssh://root:pw@10.0.0.1', /no password/],
    ['ssh://root@10.0.0.1/x', /no path/],
    ['ssh://root@10.0.0.1:99999', /not a URL/],
    ['ssh://ro;ot@10.0.0.1', /is not a user name/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseSshUrl(text),
      (e: Error & { code?: string; exitCode?: number }) => e.code === 'PAAS_ERR_CLUSTER_USAGE' && e.exitCode === 2 && re.test(e.message),
      text,
    );
  }
});
