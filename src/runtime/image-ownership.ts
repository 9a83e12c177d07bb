import type Dockerode from 'dockerode';
import { engineMessage } from './docker-error-details.js';
import { paasRepoApp } from './image-reference.js';
import { RuntimeErrors } from './runtime-errors.js';

/** The fields of one `GET /images/json?all=1` entry the walk reads. */
export interface ImageListEntry {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
}

/** Who may use which image: the pusher's or the command's key, for one app. */
export interface ImagePolicy {
  /** the app being built or deployed: its own images are always allowed */
  app: string;
  /** `admin`: any image; `developer`: its app's own images and tagged base images */
  role: 'admin' | 'developer';
}

/** What the engine's image list says about one image id. */
export interface ImageStanding {
  /** it carries a tag outside `paas/`: a base image no app owns (pulled, loaded or built by an operator) */
  base: boolean;
  /** the apps whose `paas/<app>:*` images are this image or are built on it through untagged layers */
  apps: ReadonlySet<string>;
}

const NONE = '<none>:<none>';
const NOBODY: ReadonlySet<string> = new Set();

/**
 * Which app owns each image on the engine, from one image list. An app owns the images tagged only
 * `paas/<app>:*` and their untagged ancestors (the classic builder's intermediate layers, reached
 * by `ParentId`); the walk up stops at the first tagged ancestor, which answers for itself. An
 * image with any tag outside `paas/` is a base image no app owns. Build cache shares untagged
 * layers between apps, so an id may be owned by several.
 */
export class ImageOwners {
  private readonly owners = new Map<string, Set<string>>();
  private readonly bases = new Set<string>();
  private readonly known = new Set<string>();

  constructor(images: readonly ImageListEntry[]) {
    const byId = new Map<string, ImageListEntry>();
    for (const i of images) byId.set(i.Id, i);
    const tagsOf = (i: ImageListEntry) => (i.RepoTags ?? []).filter((t) => t !== NONE);
    for (const image of images) {
      this.known.add(image.Id);
      const tags = tagsOf(image);
      if (tags.length === 0) continue;
      const apps = tags.map(paasRepoApp);
      if (apps.some((a) => a === null)) {
        this.bases.add(image.Id);
        continue;
      }
      for (const app of new Set(apps as string[])) {
        this.add(image.Id, app);
        // bounded by the list's size: a cycle in a broken list cannot loop forever
        let parent = byId.get(image.ParentId ?? '');
        for (let hops = 0; parent && hops < images.length; hops++) {
          if (tagsOf(parent).length > 0) break;
          this.add(parent.Id, app);
          parent = byId.get(parent.ParentId ?? '');
        }
      }
    }
  }

  /** What is known of `id` (an id the list did not hold: no base, no owner). */
  of(id: string): ImageStanding {
    return { base: this.bases.has(id), apps: this.owners.get(id) ?? NOBODY };
  }

  /** Whether the list held `id`. */
  has(id: string): boolean {
    return this.known.has(id);
  }

  private add(id: string, app: string): void {
    const set = this.owners.get(id) ?? new Set<string>();
    set.add(app);
    this.owners.set(id, set);
  }
}

/**
 * Why `policy` may not use an image of `standing`, or null when it may. An admin uses any image;
 * a developer its app's own (an id in the app's own chain, even if another app shares it) and
 * base images. With `loose: 'allow'` an untagged image no app owns is allowed too (an upload the
 * key brought itself); otherwise it is refused, since leftover layers of other apps' failed builds
 * are untagged and owned by nobody.
 */
export function imageRefusal(
  policy: ImagePolicy,
  standing: ImageStanding,
  loose: 'allow' | 'refuse' = 'refuse',
): { owners: string[] } | null {
  if (policy.role === 'admin') return null;
  if (standing.apps.has(policy.app) || standing.base) return null;
  const owners = [...standing.apps].sort();
  if (owners.length === 0 && loose === 'allow') return null;
  return { owners };
}

/** The words of a refusal: "an image of app 'x'", "an image of apps 'x', 'y'", or a loose layer's. */
export function describeOwner(owners: readonly string[]): string {
  if (owners.length === 0) return "an untagged image that is not one of this app's own (a layer left by a build)";
  return `an image of app${owners.length > 1 ? 's' : ''} ${owners.map((a) => `'${a}'`).join(', ')}`;
}

/** The engine's images, read in one listing per check. */
export class ImageOwnership {
  constructor(private readonly docker: Pick<Dockerode, 'listImages'>) {}

  async owners(): Promise<ImageOwners> {
    try {
      return new ImageOwners((await this.docker.listImages({ all: true })) as ImageListEntry[]);
    } catch (e) {
      throw RuntimeErrors.docker(`cannot list the engine's images: ${engineMessage(e)}`, e);
    }
  }
}
