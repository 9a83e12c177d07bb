import path from 'node:path';
import type Dockerode from 'dockerode';
import { parse } from 'shell-quote';
import { engineMessage, statusOf } from './docker-error-details.js';
import { RuntimeErrors } from './runtime-errors.js';

/** The image's ENTRYPOINT (null: none); a missing image throws PAAS_ERR_RUNTIME_IMAGE_MISSING. */
export async function imageEntrypoint(docker: Dockerode, image: string): Promise<string[] | null> {
  try {
    const ep = (await docker.getImage(image).inspect()).Config.Entrypoint as string[] | string | null | undefined;
    return typeof ep === 'string' ? [ep] : (ep ?? null);
  } catch (e) {
    if (statusOf(e) === 404) throw RuntimeErrors.imageMissing(`image ${image} is not on this host (pruned or never built)`, e);
    throw RuntimeErrors.docker(`cannot inspect image ${image}: ${engineMessage(e)}`, e);
  }
}

/**
 * How a Procfile command or a deployment task reaches the container, as Dokku hands it over:
 * - no ENTRYPOINT in the image: `/bin/sh -c <command>` (the shell expands variables, `&&`, pipes);
 * - an ENTRYPOINT that is tini (`/tini --`, `/usr/bin/tini --`, docker-init): the same
 *   `/bin/sh -c <command>`, which tini then runs;
 * - any other ENTRYPOINT: the command split into words (`touch /app/x` -> `["touch", "/app/x"]`),
 *   appended to the entrypoint as its arguments, with no shell in between.
 */
export function commandArgs(command: string, entrypoint: readonly string[] | null | undefined): string[] {
  if (!entrypoint?.length || isTini(entrypoint)) return ['/bin/sh', '-c', command];
  return words(command);
}

/** tini and Docker's own init are process supervisors, not app entrypoints: the command goes through a shell under them. */
export function isTini(entrypoint: readonly string[]): boolean {
  return /^(tini(-static)?(-[a-z0-9]+)?|docker-init)$/.test(path.posix.basename(entrypoint[0] ?? ''));
}

/**
 * Shell-like word splitting with quotes and escapes, but no expansion: `$VAR` stays as written
 * (the entrypoint or the program sees it literally, as with Dokku), operators such as `&&` and
 * globs are plain words, and a `#` comment is dropped.
 */
export function words(command: string): string[] {
  const out: string[] = [];
  for (const t of parse(command, (key) => `$${key}`)) {
    if (typeof t === 'string') out.push(t);
    else if ('op' in t) out.push(t.op === 'glob' ? (t as { pattern: string }).pattern : t.op);
  }
  return out;
}
