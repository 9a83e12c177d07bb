import { QUARANTINE_ENV } from './hook-protocol.js';

/** The variable the daemon sets on `git receive-pack`: the hook's socket is on this fd, its verdict pipe on the next. */
export const HOOK_FD_ENV = 'PAAS_HOOK_FDS';
export const HOOK_FD = 3;

/**
 * The pre-receive hook every app repository runs (core.hooksPath). A POSIX sh script, so a push
 * does not wait for an interpreter to start: it writes git's quarantine environment and the ref
 * updates to fd 3 (NUL-terminated fields, hook-protocol.ts), copies what the daemon sends back on
 * fd 3 to git (the pusher's `remote:` lines), and exits with the code read from fd 4. Both
 * descriptors exist only in the process tree of a `git receive-pack` the daemon started
 * (hook-channel.ts); without them the push is refused.
 */
export function preReceiveHookScript(): string {
  const names = QUARANTINE_ENV.map((n) => `${n}=%s\\0`).join('');
  const values = QUARANTINE_ENV.map((n) => `"\${${n}:-}"`).join(' ');
  return [
    '#!/bin/sh',
    '# paas pre-receive hook, written by the paas daemon at each start (local edits are replaced).',
    `if [ "\${${HOOK_FD_ENV}:-}" != ${HOOK_FD} ]; then`,
    "  echo 'paas: this repository only accepts pushes through paas' >&2",
    '  exit 1',
    'fi',
    '{',
    `  printf '${names}' ${values}`,
    '  cat',
    "  printf '\\0'",
    `} >&${HOOK_FD} || exit 1`,
    `cat <&${HOOK_FD}`,
    `read -r code <&${HOOK_FD + 1} || code=''`,
    'case $code in',
    "  ''|*[!0-9]*) echo 'paas: the deploy was interrupted' >&2; exit 1 ;;",
    'esac',
    'exit "$code"',
    '',
  ].join('\n');
}
