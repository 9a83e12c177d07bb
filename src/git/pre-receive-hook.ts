/**
 * Entry of the pre-receive hook git runs during a push. It hands the ref updates and git's
 * quarantine environment to the daemon over a unix socket, prints what the daemon streams back
 * (git relays it to the pusher as `remote:` lines), and exits with the daemon's verdict, so a
 * failed deploy rejects the push and the branch does not advance.
 */
import net from 'node:net';
import { jsonLine, LineSplitter } from '../util/json-lines.js';
import type { HookReply, HookRequest, RefUpdate } from './hook-protocol.js';

const GIT_ENV = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH', 'GIT_DIR'];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<number> {
  const socket = process.env.PAAS_HOOK_SOCKET;
  const token = process.env.PAAS_PUSH_TOKEN;
  if (!socket || !token) {
    process.stderr.write('paas: this repository only accepts pushes through paas\n');
    return 1;
  }
  const updates: RefUpdate[] = (await readStdin())
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [oldSha, newSha, ref] = l.split(' ');
      return { oldSha, newSha, ref };
    });
  const gitEnv: Record<string, string> = {};
  for (const k of GIT_ENV) if (process.env[k]) gitEnv[k] = process.env[k]!;
  const req: HookRequest = { token, updates, gitEnv };
  return new Promise((resolve) => {
    let exit: number | null = null;
    const lines = new LineSplitter();
    const conn = net.connect(socket, () => conn.write(jsonLine(req)));
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      for (const line of lines.push(d)) {
        const msg = JSON.parse(line) as HookReply;
        if ('o' in msg) process.stdout.write(msg.o);
        else exit = msg.exit;
      }
    });
    conn.on('error', (err) => {
      process.stderr.write(`paas: cannot reach the paas daemon (${err.message})\n`);
      resolve(1);
    });
    conn.on('close', () => {
      if (exit === null) process.stderr.write('paas: the deploy was interrupted\n');
      resolve(exit ?? 1);
    });
  });
}

main().then((code) => {
  process.exitCode = code;
});
