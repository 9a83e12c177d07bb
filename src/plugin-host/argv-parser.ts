import { parseArgs } from 'node:util';
import type { CommandSpec } from './plugin.js';
import { CommandErrors } from './command-errors.js';

export interface ParsedArgs {
  app: string | undefined;
  json: boolean;
  help: boolean;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

const GLOBAL = {
  app: { type: 'string', short: 'a' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Splits a command's words into the global flags (`--app/-a`, `--json`, `--help`), the command's
 * own flags and positionals. A `passThrough` command stops reading flags at its first positional.
 */
export function parseCommandArgs(words: string[], spec: CommandSpec): ParsedArgs {
  let head = words;
  let tail: string[] = [];
  if (spec.passThrough) {
    const split = firstPositional(words, spec);
    head = words.slice(0, split);
    tail = words.slice(split);
    if (tail[0] === '--') tail = tail.slice(1);
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { ...GLOBAL };
  for (const [name, f] of Object.entries(spec.flags ?? {})) options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw CommandErrors.usage((e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, ''), spec.usage);
  }
  const { app, json, help, ...flags } = parsed.values as Record<string, string | boolean | undefined>;
  return {
    app: app as string | undefined,
    json: json === true,
    help: help === true,
    positionals: [...parsed.positionals, ...tail],
    flags,
  };
}

function firstPositional(words: string[], spec: CommandSpec): number {
  const valued = new Set(['--app', '-a']);
  for (const [name, f] of Object.entries(spec.flags ?? {})) {
    if (f.type === 'string') {
      valued.add(`--${name}`);
      if (f.short) valued.add(`-${f.short}`);
    }
  }
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w === '--') return i;
    if (!w.startsWith('-')) return i;
    if (valued.has(w)) i++;
  }
  return words.length;
}
