import { paasRepoApp } from '../runtime/image-reference.js';
import { InputErrors as E } from './input-errors.js';

// Docker's reference grammar (distribution/reference), with the tag required: [host[:port]/]path:tag
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d{1,5})?/)';
const IMAGE_TAG = new RegExp(`^${HOST}?${COMPONENT}(?:/${COMPONENT})*:[\\w][\\w.-]{0,127}$`);

/** `IMAGE:TAG` as git:load-image and git:from-image take it; anything else is a usage error. */
export function parseImageRef(text: string): string {
  if (text.length > 255 || !IMAGE_TAG.test(text))
    throw E.imageRef(`'${text.slice(0, 80)}' is not IMAGE:TAG (e.g. myapp:1.4 or registry.example.com/team/myapp:1.4)`);
  return text;
}

/**
 * The app whose `paas/<app>` repository `ref` spells, however the Docker Hub is written
 * (`docker.io/paas/web:v3` too), or null. Only the spelling: which image it is, is judged by id.
 */
export function paasImageApp(ref: string): string | null {
  return paasRepoApp(ref);
}
