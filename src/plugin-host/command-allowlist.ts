import { parseCommandArgs } from './argv-parser.js';
import type { CommandCatalog } from './plugin.js';

/** Flags that make an allowlisted command follow output until interrupted (streams have their own routes). */
const FOLLOWING_FLAGS = ['tail', 'watch', 'follow'];

const MAX_WORDS = 64;
const MAX_WORD_LENGTH = 4096;

/**
 * Null when `argv` may run from the web dashboard: a command named in `allowed` (resolved as the
 * CommandHost resolves it, so an alias runs only if its command is allowed), without a flag that
 * follows output until interrupted and without a terminal. Otherwise the one-line refusal.
 */
export function allowlistRefusal(argv: unknown, commands: Pick<CommandCatalog, 'find'>, allowed: ReadonlySet<string>): string | null {
  if (
    !Array.isArray(argv) ||
    argv.length === 0 ||
    argv.length > MAX_WORDS ||
    !argv.every((w) => typeof w === 'string' && w.length <= MAX_WORD_LENGTH)
  ) {
    return 'argv must be a non-empty array of at most 64 strings';
  }
  const name = argv[0] as string;
  const shown = name.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
  const cmd = commands.find(name);
  if (cmd === undefined || !allowed.has(cmd.name)) return `'${shown}' is not available in the dashboard; use the CLI`;
  let parsed: ReturnType<typeof parseCommandArgs>;
  try {
    parsed = parseCommandArgs((argv as string[]).slice(1), cmd.spec);
  } catch {
    // a usage error: the CommandHost prints the CLI's own line for it
    return null;
  }
  const follows = FOLLOWING_FLAGS.some((f) => parsed.flags[f] === true);
  const tty = typeof cmd.spec.wantsTty === 'function' ? cmd.spec.wantsTty((argv as string[]).slice(1)) : cmd.spec.wantsTty === true;
  if (follows || tty) return `'${shown}' with a following flag is not available in the dashboard; use the live views or the CLI`;
  return null;
}
