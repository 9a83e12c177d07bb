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

/** Whether `ref` names an image paas made for an app (`paas/<app>:vN`): those are each app's own. */
export function paasImageApp(ref: string): string | null {
  return /^paas\/([a-z][a-z0-9-]*):/.exec(ref)?.[1] ?? null;
}
