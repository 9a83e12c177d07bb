// Shared leaf types of a command's caller: who runs it and the streams it talks through.
// This folder imports nothing of the project, so any layer may use it.
import type { Readable, Writable } from 'node:stream';

/** Who runs a command: the SSH key's name (or 'admin' for `paas admin` on the host) and its role. */
export interface Identity {
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

/** The streams of one command or git session. */
export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  pty: PtyInfo | null;
}
