/**
 * Every trigger a plugin may listen to, with its payload: one typed list instead of positional
 * strings. Add a trigger here first, then emit it.
 */
export interface TriggerPayloads {
  'app-created': { app: string };
  'app-destroyed': { app: string };
  'post-deploy': { app: string; release: number };
  'post-release-failed': { app: string; release: number; reason: string };
}
export type TriggerName = keyof TriggerPayloads;
export type TriggerHandler<N extends TriggerName> = (payload: TriggerPayloads[N]) => void | Promise<void>;
