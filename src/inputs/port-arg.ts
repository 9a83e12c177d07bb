import { InputErrors as E } from './input-errors.js';

/** `ports:set` input: a port from 1 to 65535, or `default` (null). */
export function parsePortArg(text: string): number | null {
  if (text === 'default') return null;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw E.portValue(`'${text}' is not a port (1-65535) or 'default'; nothing was changed`);
  return Number(text);
}
