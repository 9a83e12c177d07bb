import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { engineMessage, statusOf } from '../runtime/docker-error-details.js';
import { ImageOwnershipErrors } from '../runtime/image-ownership-errors.js';
import { describeOwner, ImageOwnership, type ImagePolicy, imageRefusal } from '../runtime/image-ownership.js';
import { isFullImageId, mayBeShortImageId, paasRepoApp, parseReference } from '../runtime/image-reference.js';
import { BuildErrors } from './build-errors.js';
import { dockerfileImageRefs, type ImageReferenceUse, triggerImageRefs } from './dockerfile-references.js';

export interface BuildImageCheck {
  contextDir: string;
  /** relative to contextDir */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** `paas/<app>:vN`: names the app when no policy is given */
  imageTag: string;
  /** absent: the strictest rule, the tag's app as a developer key */
  imagePolicy?: ImagePolicy;
}

/** A Dockerfile larger than this is refused rather than read (the engine's own limit is higher, no real one comes close). */
const MAX_DOCKERFILE_BYTES = 1024 * 1024;

interface Resolved {
  id: string;
  tags: string[];
  onBuild: string[];
}

/**
 * Refuses a build, before any step runs, whose Dockerfile uses an image the policy's key may not
 * use: FROM, COPY --from (and RUN --mount from=) with ARGs expanded as the engine expands them,
 * and the ONBUILD triggers of each base image. Names are resolved to ids by the engine, and the
 * ids judged against one image list (image-ownership.ts); a name not on this host is left to the
 * build unless it spells another app's `paas/<app>` or could be a short id. An admin's build is
 * not checked.
 */
export async function checkBuildImages(docker: Pick<Dockerode, 'getImage' | 'listImages'>, o: BuildImageCheck): Promise<void> {
  const policy: ImagePolicy = o.imagePolicy ?? { app: paasRepoApp(o.imageTag) ?? '', role: 'developer' };
  if (policy.role === 'admin') return;
  const uses = dockerfileImageRefs(await readDockerfile(o.contextDir, o.dockerfile), o.buildArgs);
  const found: Array<{ use: ImageReferenceUse; image: Resolved | null }> = [];
  for (let i = 0; i < uses.length; i++) {
    const use = uses[i]!;
    if (!parseReference(use.ref)) throw refused(use, `'${use.ref}' is not an image name or id`);
    const image = await resolve(docker, use.ref);
    found.push({ use, image });
    // a base image's ONBUILD triggers run right after its FROM (a --from image's do not run)
    if (image && use.base) {
      for (const t of image.onBuild) uses.push(...triggerImageRefs(t, use.stagesBefore, `${use.where} (ONBUILD ${oneLine(t)})`));
    }
  }
  // listed after every name was resolved, so an image that appeared meanwhile is on the list
  const owners = found.length ? await new ImageOwnership(docker).owners() : null;
  for (const { use, image } of found) {
    if (mayBeShortImageId(use.ref) && !isFullImageId(use.ref) && !image?.tags.some((t) => sameName(t, use.ref)))
      throw refused(use, `'${use.ref}' may be a short image id, which names another image as images come and go; name the image instead`);
    if (!image) {
      const other = paasRepoApp(use.ref);
      if (other !== null && other !== policy.app) throw refused(use, `${use.ref} is ${describeOwner([other])}`);
      continue;
    }
    const why = imageRefusal(policy, owners!.of(image.id));
    if (why) throw refused(use, `${use.ref} is ${describeOwner(why.owners)}`);
  }
}

function refused(use: ImageReferenceUse, what: string) {
  return ImageOwnershipErrors.otherApp(
    `Dockerfile ${use.where}: ${what}; a developer key builds only from its own app's images and base images`,
  );
}

/** Whether the tag `tag` (`cafe:latest`) is what the spelling `ref` (`cafe`) names, so the engine took it as a name. */
function sameName(tag: string, ref: string): boolean {
  const a = parseReference(tag);
  const b = parseReference(ref);
  return !!a && !!b && a.domain === b.domain && a.path === b.path && a.tag === (b.tag ?? 'latest');
}

async function resolve(docker: Pick<Dockerode, 'getImage'>, ref: string): Promise<Resolved | null> {
  try {
    const info = await docker.getImage(ref).inspect();
    return { id: info.Id, tags: info.RepoTags ?? [], onBuild: info.Config?.OnBuild ?? [] };
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw BuildErrors.docker(`cannot inspect image ${ref}: ${engineMessage(e)}`, e);
  }
}

/**
 * The Dockerfile's text, read only as a regular file reached through real directories of the
 * build context: the engine resolves links inside the context, not on the host, so a link would
 * let the file checked differ from the file built.
 */
async function readDockerfile(contextDir: string, dockerfile: string): Promise<string> {
  const parts = dockerfile.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  const refuse = (why: string) => BuildErrors.badSource(`cannot check the images ${dockerfile} uses: ${why}; the build is refused`);
  if (parts.length === 0 || parts.includes('..')) throw refuse('it is not a path inside the build directory');
  let at = contextDir;
  for (const [i, part] of parts.entries()) {
    at = path.join(at, part);
    const st = await fs.lstat(at).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      throw refuse(e.message);
    });
    // missing: the engine reports it as it does today
    if (!st) return '';
    const last = i === parts.length - 1;
    if (st.isSymbolicLink()) throw refuse(`${parts.slice(0, i + 1).join('/')} is a symbolic link`);
    if (last ? !st.isFile() : !st.isDirectory())
      throw refuse(`${parts.slice(0, i + 1).join('/')} is not a ${last ? 'regular file' : 'directory'}`);
  }
  const handle = await fs.open(at, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: Error) => {
    throw refuse(e.message);
  });
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_DOCKERFILE_BYTES) throw refuse(`it is not a regular file of at most ${MAX_DOCKERFILE_BYTES} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 100 ? `${t.slice(0, 97)}...` : t;
}
