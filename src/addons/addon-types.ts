import type { AddonType } from './addon-type.js';
import { postgresType } from './postgres-type.js';
import { redisType } from './redis-type.js';

/** The add-on kinds paas ships; each gets the same commands under its own namespace. */
export const ADDON_TYPES: readonly AddonType[] = [postgresType, redisType];

export function addonType(name: string): AddonType | undefined {
  return ADDON_TYPES.find((t) => t.name === name);
}
