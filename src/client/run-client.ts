import { spawn } from 'node:child_process';
import { simpleGit } from 'simple-git';
import { quote } from 'shell-quote';
import { packageVersion } from '../util/package-info.js';
import { ClientErrors } from './client-errors.js';
import { checkSshTarget, parseGitRemote, type RemoteTarget } from './git-remote.js';

/** What the client needs of the command registry: does a command take an app, does it want a tty. */
export interface CommandLookup {
  find(name: string): { spec: ClientCommandSpec } | undefined;
}

/** The part of a command's spec the client reads (the plugin host's CommandSpec has these fields). */
export interface ClientCommandSpec {
  app?: 'required' | 'new' | 'optional' | 'none';
  wantsTty?: boolean | ((args: string[]) => boolean);
}

const CLIENT_FLAGS = new Set(['--remote', '--host', '--ssh-port', '--app', '-a']);

/**
 * The `paas` client: runs a command on the server through the system `ssh` (so the user's ssh
 * config, agent and keys apply), taking host, port and app from the git remote `paas` of the
 * current checkout, or from --remote / --host / --app. Returns ssh's exit code.
 */
export async function runClient(argv: string[], loadRegistry: () => Promise<CommandLookup>): Promise<number> {
  const opts: Record<string, string> = {};
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (CLIENT_FLAGS.has(name) && words.length > 0 && words[0] === 'run' && words.length > 1) {
      words.push(a); // after `run <cmd>` everything belongs to the command
      continue;
    }
    if (CLIENT_FLAGS.has(name)) {
      const value = eq > 0 && name !== a ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw ClientErrors.usage(`${name} needs a value`);
      opts[name === '-a' ? '--app' : name] = value;
    } else words.push(a);
  }
  if (words.length === 0) words.push('help');
  if (words[0] === 'version' && !opts['--host'] && !opts['--remote']) {
    process.stdout.write(`paas ${packageVersion()} (client)\n`);
    return 0;
  }
  const registry = await loadRegistry();
  const target = await resolveTarget(opts);
  const known = registry.find(words[0])?.spec ?? null;
  const remoteWords = [...words];
  if (known && (known.app === 'required' || known.app === 'optional') && target.app) remoteWords.splice(1, 0, '--app', target.app);
  const wantsTty = typeof known?.wantsTty === 'function' ? known.wantsTty(words.slice(1)) : known?.wantsTty === true;
  const tty = wantsTty && process.stdin.isTTY && process.stdout.isTTY;
  const sshArgs = [
    tty ? '-t' : '-T',
    ...(target.port ? ['-p', String(target.port)] : []),
    // `--` before the destination: nothing after it is an ssh option, and ssh takes the rest as the command
    '--',
    `${target.user}@${target.host}`,
    quote(remoteWords),
  ];
  return new Promise((resolve) => {
    const child = spawn('ssh', sshArgs, { stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`paas: cannot run ssh: ${err.message}\n`);
      resolve(255);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function resolveTarget(opts: Record<string, string>): Promise<RemoteTarget> {
  let target: RemoteTarget;
  if (opts['--host']) {
    const h = opts['--host'];
    const m = /^(?:([^@]+)@)?(.+?)(?::(\d+))?$/.exec(h)!;
    target = checkSshTarget({ user: m[1] ?? 'paas', host: m[2], port: m[3] ? Number(m[3]) : null, app: null }, `--host '${h}'`);
  } else {
    const remote = opts['--remote'] ?? 'paas';
    let url: string | undefined;
    try {
      url = (await simpleGit().getRemotes(true)).find((r) => r.name === remote)?.refs.push;
    } catch {
      url = undefined;
    }
    if (!url) {
      throw ClientErrors.noRemote(
        `no git remote '${remote}' here: run inside your app's checkout (git remote add paas ssh://paas@HOST:2222/APP) or pass --host HOST --app APP`,
      );
    }
    target = parseGitRemote(url);
  }
  if (opts['--ssh-port']) target.port = Number(opts['--ssh-port']);
  if (opts['--app']) target.app = opts['--app'];
  return target;
}
