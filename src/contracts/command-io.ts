// Shared leaf types of a command's caller: who runs it and the streams it talks through.
// This folder imports nothing of the project, so any layer may use it.
import type { Readable, Writable } from 'node:stream';

/**
 * Who runs a command: the SSH key's name (or 'admin' for `paas admin` on the host), its role, and
 * for a developer key the apps granted to it and whether it may create apps. Read afresh for
 * every command, so a grant, a revocation or a removed key takes effect at the next one.
 */
export interface Identity {
  keyName: string;
  role: 'admin' | 'developer';
  /** developer keys: the apps granted (admins reach every app) */
  apps: readonly string[];
  canCreate: boolean;
}

/** The identity of `paas admin` on the host. */
export const HOST_ADMIN: Identity = { keyName: 'admin', role: 'admin', apps: [], canCreate: true };

export interface PtyInfo {
  cols: number;
  rows: number;
  term: string;
  /** called with new sizes when the client's window changes */
  onResize(fn: (cols: number, rows: number) => void): void;
}

/** The streams of one command or git session. */
export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  pty: PtyInfo | null;
}
