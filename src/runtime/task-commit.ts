import type Dockerode from 'dockerode';
import { engineMessage } from './docker-error-details.js';
import { RuntimeErrors } from './runtime-errors.js';

/**
 * The image config a committed deployment-task container gets: the image's own config (command,
 * entrypoint, workdir, user, ports), not the task's. Docker's commit fills anything missing from
 * the container and adds the container's env vars and labels whose names the config lacks, so:
 * - every env var the task got (config vars, PORT) is listed by name only, which Docker reads as
 *   "unset": no config value (secrets included) is baked into the image;
 * - the task container's labels (app, process, release, ... but not the one-off mark, which the
 *   runner leaves off a container to commit) are listed empty: every container made from the
 *   image sets them itself.
 */
export function commitConfig(image: Dockerode.ImageInspectInfo['Config'], taskEnv: string[], taskLabels: Record<string, string>): object {
  const own = image.Env ?? [];
  const ownKeys = new Set(own.map((e) => e.split('=')[0]));
  const unset = taskEnv.map((e) => e.split('=')[0]).filter((k) => !ownKeys.has(k));
  const blank = Object.fromEntries(Object.keys(taskLabels).map((k) => [k, '']));
  return {
    ...image,
    Env: [...own, ...[...new Set(unset)]],
    Labels: { ...blank, ...(image.Labels ?? {}) },
    Cmd: image.Cmd ?? null,
    Entrypoint: image.Entrypoint ?? null,
  };
}

/** Commits a finished task container's filesystem as `tag` (`paas/app:v7`), keeping the image config of `image`. */
export async function commitTask(docker: Dockerode, container: Dockerode.Container, image: string, tag: string): Promise<string> {
  try {
    const [img, c] = await Promise.all([docker.getImage(image).inspect(), container.inspect()]);
    const i = tag.lastIndexOf(':');
    // docker-modem sends `_query` as the query string and `_body` as the JSON body (the new image's config)
    const r = (await container.commit({
      _query: {
        container: container.id,
        repo: tag.slice(0, i),
        tag: tag.slice(i + 1),
        comment: 'paas: scripts.dokku.predeploy',
        pause: false,
      },
      _body: commitConfig(img.Config, c.Config.Env ?? [], c.Config.Labels ?? {}),
    })) as { Id: string };
    return r.Id;
  } catch (e) {
    throw RuntimeErrors.docker(`cannot commit the predeploy task into ${tag}: ${engineMessage(e)}`, e);
  }
}
