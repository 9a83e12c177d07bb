import type { Readable } from 'node:stream';
import { CommandErrors } from './command-errors.js';

/** Reads a command's stdin to its end, refusing more than `limit` bytes. */
export function readStdin(stdin: Readable, limit: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) return done(CommandErrors.stdinTooLarge(limit));
      chunks.push(c);
    };
    const onEnd = () => done();
    const onAbort = () => done(CommandErrors.aborted());
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    signal.addEventListener('abort', onAbort);
    stdin.resume();
  });
}
