/** Messages between the pre-receive hook process and the daemon, one JSON object per line. */
export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

export interface HookRequest {
  token: string;
  updates: RefUpdate[];
  /** the quarantine environment git gives the hook: the pushed objects live there until it exits 0 */
  gitEnv: Record<string, string>;
}

export type HookReply = { o: string } | { exit: number };

export const ZERO_SHA = /^0+$/;
