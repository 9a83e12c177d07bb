// Issue 21 item 10: `paas server --data-dir DIR` as root, where a parent of DIR is 0700 (a
// `mktemp -d`, /root): the proxy drops root once its ports are bound and could then not reach its
// data dir. The server says so in one line before starting anything, naming the folder and the fix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { paasCli } from '../helpers/paas-server.js';

const isRoot = process.getuid?.() === 0;

test('a data dir under a 0700 folder is refused at start with one line that names the folder', {
  skip: !isRoot && 'needs root',
}, async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-closed-'));
  fs.chmodSync(parent, 0o700);
  const dataDir = path.join(parent, 'data');
  try {
    const r = await paasCli(
      ['server', '--data-dir', dataDir, '--ssh-port', '0', '--http-port', '0', '--https-port', '0', '--listen', '127.0.0.1'],
      { timeout: 60_000, env: { PAAS_DOMAIN: 'paas.test', PAAS_PROXY_WORKERS: '1' } },
    );
    assert.equal(r.exitCode, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(
      String(r.stderr),
      new RegExp(
        `^paas: the proxy user 'paas-proxy' cannot reach the data dir ${dataDir}: ${parent} \\(mode 700, owner 0:0\\) does not let it through; make it traversable \\(chmod o\\+x ${parent}\\) or put the data dir under a traversable folder\\n?$`,
      ),
    );
    assert.ok(!fs.existsSync(path.join(dataDir, 'run', 'proxy.pid')), 'no proxy was started');
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
