import type { Readable } from 'node:stream';
import { AppError } from '../errors/app-error.js';

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
      if (size > limit) return done(new AppError('PAAS_ERR_STDIN_TOO_LARGE', `stdin is larger than ${limit} bytes`, { exitCode: 2 }));
      chunks.push(c);
    };
    const onEnd = () => done();
    const onAbort = () => done(new AppError('PAAS_ERR_ABORTED', 'cancelled'));
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    signal.addEventListener('abort', onAbort);
    stdin.resume();
  });
}
