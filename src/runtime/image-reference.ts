// Docker's image reference grammar (distribution/reference, as the 20.10 engine reads it), for
// deciding which image a spelling names before the engine is asked: name[:tag][@digest], or an id.

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** Names the engine accepts as the Docker Hub: `docker.io/x` and `index.docker.io/x` are `x`. */
const HUB = new Set(['docker.io', 'index.docker.io']);

export interface ParsedReference {
  /** the registry host, null for Docker Hub (named or not) */
  domain: string | null;
  /** the repository path without the registry, `library/` dropped: `paas/web`, `busybox` */
  path: string;
  tag: string | null;
  digest: string | null;
}

/**
 * `text` split as the engine would, or null when it is no image reference at all (the engine
 * refuses it too). A first component is a registry only when it has a `.` or a `:` or is
 * `localhost`, as in distribution/reference.
 */
export function parseReference(text: string): ParsedReference | null {
  if (text.length > 512) return null;
  const m = REFERENCE.exec(text);
  if (!m) return null;
  let domain: string | null = m[1] ?? null;
  let path = m[2]!;
  // the regex may take `host/` as the domain group or as a path component; the rule decides
  if (domain !== null && !isDomain(domain)) {
    if (!new RegExp(`^${COMPONENT}$`).test(domain)) return null;
    path = `${domain}/${path}`;
    domain = null;
  }
  if (path.length > 255) return null;
  if (domain !== null && HUB.has(domain.toLowerCase())) domain = null;
  if (domain === null && path.startsWith('library/')) path = path.slice('library/'.length);
  return { domain, path, tag: m[3] ?? null, digest: m[4] ?? null };
}

function isDomain(s: string): boolean {
  return s.includes('.') || s.includes(':') || s === 'localhost';
}

/**
 * The app whose images `text` names by spelling (`paas/<app>:…` on the Docker Hub or unnamed
 * registry, as the engine resolves local images), or null. Used where the engine cannot tell by
 * id: a name that is not (yet) on this host.
 */
export function paasRepoApp(text: string): string | null {
  const ref = parseReference(text);
  if (!ref || ref.domain !== null) return null;
  return /^paas\/([a-z][a-z0-9-]*)$/.exec(ref.path)?.[1] ?? null;
}

/** A full image id, with or without `sha256:`: it names one image for good (ids are content hashes). */
export function isFullImageId(text: string): boolean {
  return /^(?:sha256:)?[0-9a-f]{64}$/.test(text);
}

/**
 * Whether the engine may read `text` as the prefix of an image id: hex without a tag (`0d3d14`,
 * `sha256:0d3d`). Which image a prefix names changes as images come and go, so a check made on
 * it now says nothing about the image a build finds later.
 */
export function mayBeShortImageId(text: string): boolean {
  return /^(?:sha256:)?[0-9a-f]{1,63}$/.test(text);
}
