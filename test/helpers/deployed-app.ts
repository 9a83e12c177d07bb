import assert from 'node:assert/strict';
import path from 'node:path';
import { busyboxApp, commitFiles, healthAppJson, push } from './app-repo.js';
import { ensureBusyboxImage } from './base-images.js';
import { requireDocker } from './docker.js';
import { PaasServer } from './paas-server.js';

/**
 * The common e2e start: a real Docker engine, the busybox base image, a `paas server`, and a
 * busybox app serving `marker` (with a health path) pushed to it as `app`; `env` goes to the
 * server (e.g. PAAS_ACME_* flags). Returns the server
 * and the app's work tree.
 */
export async function serverWithApp(
  app: string,
  marker: string,
  env: Record<string, string> = {},
): Promise<{ paas: PaasServer; dir: string }> {
  await requireDocker();
  await ensureBusyboxImage();
  const paas = await new PaasServer(env).start();
  const dir = path.join(paas.dataDir, 'work', app);
  await commitFiles(dir, busyboxApp(marker, { 'app.json': healthAppJson() }));
  const r = await push(paas, dir, app);
  assert.equal(r.exitCode, 0, r.output);
  return { paas, dir };
}
