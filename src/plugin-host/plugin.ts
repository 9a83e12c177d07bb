import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { Services } from './services.js';
import type { TriggerHandler, TriggerName } from './triggers.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
}

export interface Identity {
  /** the SSH key's name, or 'admin' for `paas admin` on the host */
  keyName: string;
  role: 'admin' | 'collaborator';
}

export interface PtyInfo {
  cols: number;
  rows: number;
  term: string;
  /** called with new sizes when the client's window changes */
  onResize(fn: (cols: number, rows: number) => void): void;
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
  services: Services;
  log: Logger;
  pty: PtyInfo | null;
}

export interface CommandSpec {
  summary: string;
  /** e.g. `apps:scale [app] <process=N>...` */
  usage: string;
  examples?: string[];
  /** how the command takes an app: `required` (must exist), `new` (must not exist yet), `none` */
  app?: 'required' | 'new' | 'none';
  flags?: Record<string, FlagSpec>;
  minArgs?: number;
  maxArgs?: number;
  /** stop parsing flags at the first positional (for `run <cmd> -la`) */
  passThrough?: boolean;
  /** the client asks ssh for a tty when it has one */
  wantsTty?: boolean | ((args: string[]) => boolean);
  /** admin keys only (every command today; collaborators come later) */
  adminOnly?: boolean;
  /** returns the exit code (0 when void) */
  run(ctx: CommandContext): Promise<number | undefined> | number | undefined;
}

export interface Plugin {
  name: string;
  dependencies?: string[];
  commands: Record<string, CommandSpec>;
  aliases?: Record<string, string>;
  triggers?: { [N in TriggerName]?: TriggerHandler<N> };
}

export function definePlugin(p: Plugin): Plugin {
  return p;
}
