import { InputErrors as E } from './input-errors.js';
import { DEFAULT_PORT } from './rollout.js';

/**
 * The container port web traffic goes to: the one chosen with `ports:set`, else the image's single
 * EXPOSEd port, else 5000 (an image that EXPOSEs several, or none, listens on PORT=5000).
 */
export function webPort(exposed: readonly number[], chosen: number | null): number {
  if (chosen !== null) return chosen;
  return exposed.length === 1 ? exposed[0]! : DEFAULT_PORT;
}

/** `ports:set` input: a port from 1 to 65535, or `default` (null). */
export function parsePortArg(text: string): number | null {
  if (text === 'default') return null;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw E.portValue(`'${text}' is not a port (1-65535) or 'default'; nothing was changed`);
  return Number(text);
}
