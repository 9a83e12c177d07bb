import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RegistryFiles } from '../../../../src/swarm/registry/registry-files.js';

test('prepare makes a CA, a certificate for the address it signs, a bcrypt htpasswd and a private login', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-registry-'));
  try {
    const files = new RegistryFiles(dir);
    assert.equal(files.endpoint(), null);
    const e = await files.prepare('10.0.0.11:5000');
    assert.equal(e.address, '10.0.0.11:5000');
    assert.equal(e.username, 'paas');
    assert.ok(e.password.length >= 24);
    const verify = execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'server.crt')]).toString();
    assert.match(verify, /OK/);
    const text = execFileSync('openssl', ['x509', '-in', path.join(dir, 'server.crt'), '-noout', '-ext', 'subjectAltName']).toString();
    assert.match(text, /IP Address:10\.0\.0\.11/);
    assert.match(fs.readFileSync(path.join(dir, 'htpasswd'), 'utf8'), /^paas:\$2y\$/);
    for (const f of ['ca.key', 'server.key', 'htpasswd', 'credentials.json'])
      assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
    assert.match(fs.readFileSync(files.configFile, 'utf8'), /addr: "10\.0\.0\.11:5000"/);
    // again: same login and CA; a new address gets a new certificate, not a new CA
    const ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const again = await files.prepare('10.0.0.12:5000');
    assert.equal(again.password, e.password);
    assert.equal(again.caPem, ca);
    assert.equal(again.address, '10.0.0.12:5000');
    assert.match(
      execFileSync('openssl', ['x509', '-in', path.join(dir, 'server.crt'), '-noout', '-ext', 'subjectAltName']).toString(),
      /10\.0\.0\.12/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the packages the registry needs are named when their programs are missing', async () => {
  assert.deepEqual(await RegistryFiles.missingPackages('/nonexistent'), ['docker-registry', 'apache2-utils', 'openssl']);
  assert.deepEqual(await RegistryFiles.missingPackages(), []);
});
