/**
 * What the pre-receive hook (hook-script.ts) sends the daemon: git's quarantine environment and
 * the ref updates, as NUL-terminated fields. The daemon answers with the deploy's output and an
 * exit code (hook-channel.ts).
 */
export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

export interface HookRequest {
  updates: RefUpdate[];
  /** the quarantine environment git gives the hook: the pushed objects live there until it exits 0 */
  gitEnv: Record<string, string>;
}

/** The variables of git's quarantine environment the hook passes on, in the order it sends them. */
export const QUARANTINE_ENV = ['GIT_QUARANTINE_PATH', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES'] as const;

/** The fields of a whole request: one `NAME=value` per quarantine variable, then the ref lines. */
export const REQUEST_FIELDS = QUARANTINE_ENV.length + 1;

export const ZERO_SHA = /^0+$/;

const REF_LINE = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (refs\/\S+)$/;

/**
 * Parses the hook's fields (`NAME=value` for each of QUARANTINE_ENV, then git's "old new ref"
 * lines); null when they are not what the hook writes.
 */
export function parseHookRequest(fields: string[]): HookRequest | null {
  if (fields.length !== REQUEST_FIELDS) return null;
  const gitEnv: Record<string, string> = {};
  for (const [i, name] of QUARANTINE_ENV.entries()) {
    const field = fields[i]!;
    if (!field.startsWith(`${name}=`)) return null;
    const value = field.slice(name.length + 1);
    if (value.includes('\n')) return null;
    if (value) gitEnv[name] = value;
  }
  const updates: RefUpdate[] = [];
  for (const line of fields[QUARANTINE_ENV.length]!.split('\n')) {
    if (!line) continue;
    const m = REF_LINE.exec(line);
    if (!m) return null;
    updates.push({ oldSha: m[1]!, newSha: m[2]!, ref: m[3]! });
  }
  return { updates, gitEnv };
}
