import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execa } from 'execa';
import { BUSYBOX_IMAGE } from './base-images.js';
import type { PaasServer } from './paas-server.js';

/** A tiny busybox httpd app: `/` answers `<marker>`, `/cgi-bin/env` prints the environment. */
export function busyboxApp(marker: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Dockerfile: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nRUN chmod +x /www/cgi-bin/env\nCMD httpd -f -p $PORT -h /www\n`,
    'www/index.html': `${marker}\n`,
    'www/cgi-bin/env': '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n\'\nenv | sort\necho "HOSTNAME=$(hostname)"\n',
    ...extra,
  };
}

/** An app.json declaring a web health check on `path`: a deploy goes live on the first 2xx instead of after 2 s of uptime. */
export function healthAppJson(path = '/'): string {
  return JSON.stringify({ healthchecks: { web: [{ path, attempts: 30 }] } });
}

/** Writes `files` into a fresh git repo at `dir` (or a new commit on it) on branch main. */
export async function commitFiles(dir: string, files: Record<string, string>, message = 'update'): Promise<string> {
  if (!fs.existsSync(path.join(dir, '.git'))) {
    fs.mkdirSync(dir, { recursive: true });
    await execa('git', ['init', '-q', '-b', 'main', dir]);
    await execa('git', ['-C', dir, 'config', 'user.email', 't@example.com']);
    await execa('git', ['-C', dir, 'config', 'user.name', 'tester']);
  }
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  await execa('git', ['-C', dir, 'add', '-A']);
  await execa('git', ['-C', dir, 'commit', '-q', '--allow-empty', '-m', message]);
  return (await execa('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();
}

export interface PushResult {
  exitCode: number;
  output: string;
}

/** `git push <url> <refspec>` over real OpenSSH; output is stderr+stdout (git prints progress to stderr). */
export async function push(paas: PaasServer, dir: string, app: string, refspec = 'main', extra: string[] = []): Promise<PushResult> {
  const r = await execa('git', ['-C', dir, 'push', ...extra, paas.remoteUrl(app), refspec], {
    env: paas.gitEnv(),
    reject: false,
    all: true,
    timeout: 600_000,
  });
  return { exitCode: r.exitCode ?? 1, output: String(r.all) };
}

/** GET through the paas proxy with a Host header. */
export function viaProxy(
  paas: PaasServer,
  host: string,
  urlPath = '/',
  timeoutMs = 10_000,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: paas.ports.http, path: urlPath, headers: { host }, timeout: timeoutMs, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The sha a branch has on the paas side, or null. */
export async function remoteSha(paas: PaasServer, app: string, branch = 'main'): Promise<string | null> {
  const r = await execa('git', ['ls-remote', paas.remoteUrl(app), `refs/heads/${branch}`], { env: paas.gitEnv(), reject: false });
  return String(r.stdout).split(/\s/)[0] || null;
}
