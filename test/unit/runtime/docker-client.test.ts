// dockerode is loaded without its BuildKit session support (grpc), which still loads on a first call.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Runs `body` in a fresh Node (through tsx) after importing src/runtime/docker-client.ts; its stdout. */
function inFreshNode(body: string): string {
  const src = `
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))});
    const { DockerClient } = await import(${JSON.stringify(path.join(ROOT, 'src/runtime/docker-client.ts'))});
    const grpcLoaded = () => Object.keys(require.cache).some((k) => k.includes('/@grpc/'));
    ${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('dockerode loads without grpc; the client works as dockerode', () => {
  const out = inFreshNode(`
    const docker = new DockerClient({ socketPath: '/nonexistent.sock' });
    console.log(JSON.stringify({ grpc: grpcLoaded(), hasListContainers: typeof docker.listContainers, modem: docker.modem.socketPath }));
  `);
  assert.deepEqual(JSON.parse(out), { grpc: false, hasListContainers: 'function', modem: '/nonexistent.sock' });
});

test('the stand-in for its BuildKit session module loads the real one on first call', () => {
  const out = inFreshNode(`
    const withSession = require('dockerode/lib/session.js');
    const before = grpcLoaded();
    let threw = '';
    // the real module is reached (it needs a docker to talk to; here it fails on the missing socket)
    try { await new Promise((resolve, reject) => { withSession(new DockerClient({ socketPath: '/nonexistent.sock' }), {}, (err) => (err ? reject(err) : resolve())); setTimeout(resolve, 2000); }); } catch (e) { threw = 'error'; }
    console.log(JSON.stringify({ before, after: grpcLoaded(), real: require('dockerode/lib/session.js') !== withSession }));
  `);
  const r = JSON.parse(out);
  assert.equal(r.before, false);
  assert.equal(r.after, true, 'grpc loaded once the session support is used');
  assert.equal(r.real, true, 'the cache now holds the real module');
});
