import type { Readable, Writable } from 'node:stream';
import type { Access } from '../contracts/access.js';
import type { Identity, PtyInfo } from '../contracts/command-io.js';
import type { Logger } from '../log/logger.js';
import type { PluginApi } from './plugin-api.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
}

export interface CommandContext {
  /** the app named by `--app`/`-a` or the first positional, validated (and existing unless the command creates it) */
  app: string;
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  json: boolean;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  identity: Identity;
  /** the application services: every command goes plugin -> service -> runtime/proxy */
  api: PluginApi;
  /** the loaded commands (for `help`) */
  commands: CommandCatalog;
  log: Logger;
  pty: PtyInfo | null;
}

export interface CommandSpec {
  summary: string;
  /** e.g. `apps:scale [app] <process=N>...` */
  usage: string;
  examples?: string[];
  /** how the command takes an app: `required` (must exist), `new` (must not exist yet), `optional` (all apps the key reaches without one; `app` is ''), `none` */
  app?: 'required' | 'new' | 'optional' | 'none';
  flags?: Record<string, FlagSpec>;
  minArgs?: number;
  maxArgs?: number;
  /** stop parsing flags at the first positional (for `run <cmd> -la`) */
  passThrough?: boolean;
  /** the client asks ssh for a tty when it has one */
  wantsTty?: boolean | ((args: string[]) => boolean);
  /** who may run it (contracts/access.ts); default `admin` */
  access?: Access;
  /** with its `--global` flag (declared in `flags`) the command takes no app and needs an admin key */
  global?: boolean;
  /** returns the exit code (0 when void) */
  run(ctx: CommandContext): Promise<number | undefined> | number | undefined;
}

export interface Plugin {
  name: string;
  commands: Record<string, CommandSpec>;
  aliases?: Record<string, string>;
}

export interface RegisteredCommand {
  name: string;
  plugin: string;
  spec: CommandSpec;
}

/** What `help` and the client need of the command registry. */
export interface CommandCatalog {
  resolve(name: string): RegisteredCommand;
  find(name: string): RegisteredCommand | undefined;
  list(): RegisteredCommand[];
  aliasesOf(name: string): string[];
}

export function definePlugin(p: Plugin): Plugin {
  return p;
}
