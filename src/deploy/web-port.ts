import { DEFAULT_PORT } from './rollout.js';

/**
 * The container port web traffic goes to: the one chosen with `ports:set`, else the image's single
 * EXPOSEd port, else 5000 (an image that EXPOSEs several, or none, listens on PORT=5000).
 */
export function webPort(exposed: readonly number[], chosen: number | null): number {
  if (chosen !== null) return chosen;
  return exposed.length === 1 ? exposed[0]! : DEFAULT_PORT;
}
