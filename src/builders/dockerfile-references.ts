import { BuildErrors } from './build-errors.js';

// Every image a Dockerfile makes the classic builder read, found the way the Docker 20.10 engine
// reads the file (its vendored buildkit parser and shell lexer): parser directives, line
// continuations, comments, case-insensitive instructions, global ARGs with build-arg overrides,
// `${X:-d}` / `${X:+w}`, quotes, stage names and indexes. What it cannot read it refuses: a check
// that guessed would let a spelling it misread through.

/** One image a build will use. */
export interface ImageReferenceUse {
  /** the image as the engine is asked for it (expanded, unquoted) */
  ref: string;
  /** where it is written, for a refusal: `line 4: COPY --from=paas/web:v3 /x /y` */
  where: string;
  /** a stage's base image: its ONBUILD triggers run in this build */
  base: boolean;
  /** the stages built before this one (a trigger's COPY --from may name them) */
  stagesBefore: string[];
}

/** Build args the engine lets into FROM without an ARG line (its builtinAllowedBuildArgs). */
const BUILTIN_ARGS = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((k) => [k, k.toLowerCase()]);

const refusal = (where: string, why: string) =>
  BuildErrors.badSource(`cannot tell which images the Dockerfile uses (${where}: ${why}); the build is refused`);

/** The images `dockerfile` (its text) uses, given the app's build args. */
export function dockerfileImageRefs(dockerfile: string, buildArgs: Record<string, string>): ImageReferenceUse[] {
  const { esc, lines } = logicalLines(dockerfile);
  const refs: ImageReferenceUse[] = [];
  const stages: string[] = [];
  /** global ARGs (before the first FROM): their values as FROM sees them */
  const meta = new Map<string, string>();
  for (const [k, v] of Object.entries(buildArgs)) if (BUILTIN_ARGS.includes(k)) meta.set(k, v);
  let stageCount = 0;
  for (const { line, text } of lines) {
    const where = `line ${line}: ${oneLine(text)}`;
    const ins = instruction(text, where);
    const word = (w: string) => expand(w, meta, esc, where);
    if (ins.cmd === 'arg' && stageCount === 0) {
      for (const pair of parseWords(ins.args, esc)) {
        const eq = pair.indexOf('=');
        const key = word(eq < 0 ? pair : pair.slice(0, eq));
        if (!key) throw refusal(where, 'an ARG without a name');
        const fallback = eq < 0 ? undefined : word(pair.slice(eq + 1));
        const value = Object.hasOwn(buildArgs, key) ? buildArgs[key] : fallback;
        if (value === undefined) meta.delete(key);
        else meta.set(key, value);
      }
      continue;
    }
    if (ins.cmd === 'from') {
      const words = ins.args.split(/[\t\v\f\r ]+/).filter(Boolean);
      let name: string | null = null;
      if (words.length === 3 && words[1]!.toLowerCase() === 'as') name = words[2]!.toLowerCase();
      else if (words.length !== 1) throw refusal(where, 'FROM takes IMAGE or IMAGE AS NAME');
      const image = word(words[0]!);
      if (image !== 'scratch' && !isStage(image, stages)) refs.push({ ref: image, where, base: true, stagesBefore: [...stages] });
      stages.push(name ?? '');
      stageCount++;
      continue;
    }
    if (stageCount === 0 && ins.cmd !== 'arg') throw refusal(where, `${ins.cmd.toUpperCase()} before the first FROM`);
    // COPY --from / RUN --mount=from=… of this stage, and ONBUILD triggers (they run in a later build or stage)
    for (const ref of fromFlags(ins, where)) {
      if (ins.cmd === 'onbuild' ? !isIndex(ref) : !isStage(ref, stages.slice(0, -1)))
        refs.push({ ref, where, base: false, stagesBefore: stages.slice(0, -1) });
    }
  }
  return refs;
}

/**
 * The images one ONBUILD trigger of a base image uses (`COPY --from=paas/web:v3 /x /y`), run in
 * a stage that has `stagesBefore` before it. The engine parses each trigger as a Dockerfile of
 * its own, with the default escape character.
 */
export function triggerImageRefs(trigger: string, stagesBefore: string[], where: string): ImageReferenceUse[] {
  const { lines } = logicalLines(trigger);
  if (lines.length !== 1) throw refusal(where, `the ONBUILD trigger '${oneLine(trigger)}' is not one instruction`);
  const ins = instruction(lines[0]!.text, where);
  const refs: ImageReferenceUse[] = [];
  if (ins.cmd === 'from') refs.push({ ref: ins.args.trim(), where, base: true, stagesBefore });
  for (const ref of fromFlags(ins, where)) if (!isStage(ref, stagesBefore)) refs.push({ ref, where, base: false, stagesBefore });
  return refs;
}

interface Instruction {
  cmd: string;
  flags: string[];
  args: string;
}

/** The `--from` values of COPY/ADD, the `from=` of RUN --mount, and those of an ONBUILD trigger. */
function fromFlags(ins: Instruction, where: string): string[] {
  if (ins.cmd === 'onbuild') {
    const sub = instruction(ins.args, where);
    return sub.cmd === 'from' ? [ins.args.trim().split(/\s+/)[1] ?? ''] : fromFlags(sub, where);
  }
  const out: string[] = [];
  for (const flag of ins.flags) {
    const eq = flag.indexOf('=');
    const name = (eq < 0 ? flag.slice(2) : flag.slice(2, eq)).toLowerCase();
    const value = eq < 0 ? '' : flag.slice(eq + 1);
    if ((ins.cmd === 'copy' || ins.cmd === 'add') && name === 'from' && value !== '') out.push(value);
    if (ins.cmd === 'run' && name === 'mount') {
      for (const field of value.split(',')) {
        const [k, v] = field.split('=', 2);
        if (k?.trim().toLowerCase() === 'from' && v) out.push(v.trim());
      }
    }
  }
  return out;
}

/** A stage index: the engine reads any integer in --from as one, never as an image. */
const isIndex = (ref: string) => /^[+-]?\d+$/.test(ref);

/** A stage built before (names match case-insensitively), or an index. */
function isStage(ref: string, stages: string[]): boolean {
  return isIndex(ref) || stages.some((s) => s !== '' && s === ref.toLowerCase());
}

/** `FROM`, its builder flags (`--platform=…`) and the rest, as the engine's splitCommand does. */
function instruction(text: string, where: string): Instruction {
  const trimmed = text.trim();
  const m = /^(\S+)(?:[\t\v\f\r ]+([\s\S]*))?$/.exec(trimmed);
  if (!m) throw refusal(where, 'an empty instruction');
  const { rest, flags } = extractBuilderFlags(m[2] ?? '');
  return { cmd: m[1]!.toLowerCase(), flags, args: rest.trim() };
}

/** The leading `--name=value` words, quotes and backslashes taken out (the engine's extractBuilderFlags). */
function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const { words, rest } = splitWords(line, '\\', false, true);
  return { rest, flags: words };
}

/** Words of an ARG line: split on blanks outside quotes, quotes and escapes kept (the engine's parseWords). */
function parseWords(rest: string, esc: string): string[] {
  return splitWords(rest, esc, true, false).words;
}

/**
 * The engine's two word splitters in one: `raw` keeps quotes and escape characters in the words
 * (parseWords, whose values the shell lexer reads later); `flagsOnly` stops at the first word that
 * does not start with `--` and returns the rest of the line (extractBuilderFlags).
 */
function splitWords(line: string, esc: string, raw: boolean, flagsOnly: boolean): { words: string[]; rest: string } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOk = false;
  const done = (pos: number) => ({ words, rest: line.slice(pos) });
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (/\s/.test(ch)) continue;
      if (flagsOnly && !line.startsWith('--', pos)) return done(pos);
      phase = 'word';
    }
    if (pos === line.length) {
      if (!(flagsOnly && word === '--') && (blankOk || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/.test(ch)) {
        phase = 'spaces';
        if (flagsOnly && word === '--') return done(pos);
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        if (raw) word += ch;
        continue;
      }
      if (ch === esc) {
        if (pos + 1 === line.length) continue;
        word += raw ? ch + line[++pos] : line[++pos];
        continue;
      }
      word += ch;
      continue;
    }
    // in a quote: an escape works in double quotes (and in any quote of a flag)
    if (ch === quote) {
      phase = 'word';
      if (raw) word += ch;
      continue;
    }
    if (ch === esc && (!raw || quote !== "'")) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      word += raw ? ch + line[++pos] : line[++pos];
      continue;
    }
    word += ch;
  }
  return { words, rest: '' };
}

/** One word through the engine's shell lexer (ProcessWordWithMap): quotes, escapes, $X, ${X}, ${X:-w}, ${X:+w}. */
function expand(word: string, env: Map<string, string>, esc: string, where: string): string {
  let pos = 0;
  const fail = (why: string): never => {
    throw refusal(where, why);
  };
  const get = (name: string) => env.get(name) ?? '';
  const name = (): string => {
    let n = '';
    if (pos < word.length && /\d/.test(word[pos]!)) {
      while (pos < word.length && /\d/.test(word[pos]!)) n += word[pos++];
      return n;
    }
    if (pos < word.length && '*#@!?-$'.includes(word[pos]!)) return word[pos++]!;
    while (pos < word.length && /[A-Za-z0-9_]/.test(word[pos]!)) n += word[pos++];
    return n;
  };
  const dollar = (): string => {
    pos++; // $
    if (word[pos] !== '{') {
      const n = name();
      return n === '' ? '$' : get(n);
    }
    pos++; // {
    if (pos >= word.length) fail("missing '}'");
    if ('{}:'.includes(word[pos]!)) fail('bad substitution');
    const n = name();
    const ch = word[pos++];
    if (ch === '}') return get(n);
    if (ch !== ':') fail(`a substitution other than \${X}, \${X:-word} or \${X:+word}`);
    const modifier = word[pos++];
    const w = until('}');
    if (modifier === '-') return get(n) === '' ? w : get(n);
    if (modifier === '+') return get(n) === '' ? '' : w;
    return fail(`the unsupported modifier '${modifier ?? ''}' in a substitution`);
  };
  const single = (): string => {
    pos++;
    const end = word.indexOf("'", pos);
    if (end < 0) fail('an unmatched single quote');
    const s = word.slice(pos, end);
    pos = end + 1;
    return s;
  };
  const double = (): string => {
    pos++;
    let out = '';
    for (;;) {
      if (pos >= word.length) fail('an unmatched double quote');
      const ch = word[pos]!;
      if (ch === '"') {
        pos++;
        return out;
      }
      if (ch === '$') {
        out += dollar();
        continue;
      }
      pos++;
      if (ch === esc) {
        if (pos >= word.length) continue;
        if (word[pos] === '"' || word[pos] === '$' || word[pos] === esc) {
          out += word[pos++];
          continue;
        }
      }
      out += ch;
    }
  };
  const until = (stop: string | null): string => {
    let out = '';
    while (pos < word.length) {
      const ch = word[pos]!;
      if (stop !== null && ch === stop) {
        pos++;
        return out;
      }
      if (ch === "'") out += single();
      else if (ch === '"') out += double();
      else if (ch === '$') out += dollar();
      else {
        pos++;
        if (ch === esc) {
          if (pos >= word.length) break;
          out += word[pos++];
        } else out += ch;
      }
    }
    if (stop !== null) fail(`a missing '${stop}'`);
    return out;
  };
  return until(null);
}

interface LogicalLine {
  /** the line number of its first physical line */
  line: number;
  text: string;
}

/** Physical lines joined as the engine's parser joins them: directives, comments, continuations, blank lines. */
function logicalLines(text: string): { esc: string; lines: LogicalLine[] } {
  const raw = text.replace(/^\uFEFF/, '').split('\n');
  let esc = '\\';
  let directivesDone = false;
  const seen = new Set<string>();
  const directive = (line: string) => {
    if (directivesDone) return;
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || (key !== 'escape' && key !== 'syntax')) {
      directivesDone = true;
      return;
    }
    if (seen.has(key!)) throw refusal(`line 1`, `a second ${key} directive`);
    seen.add(key!);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw refusal('line 1', `the escape directive '${m[2]}' (use \\ or \`)`);
      esc = m[2];
    }
  };
  const trimNewline = (l: string) => l.replace(/[\r\n]+$/, '');
  const isComment = (l: string) => /^#/.test(trimNewline(l).replace(/^\s+/, ''));
  const continuation = () => new RegExp(`${esc === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  const lines: LogicalLine[] = [];
  let i = 0;
  while (i < raw.length) {
    const start = i + 1;
    let first = trimNewline(raw[i++]!).replace(/^\s+/, '');
    directive(first);
    if (isComment(first)) first = '';
    let ended = !continuation().test(first);
    let line = first.replace(continuation(), '');
    if (ended && line === '') continue;
    while (!ended && i < raw.length) {
      const next = trimNewline(raw[i++]!);
      if (isComment(next)) continue;
      if (next.replace(/^\s+/, '') === '') continue;
      ended = !continuation().test(next);
      line += next.replace(continuation(), '');
    }
    lines.push({ line: start, text: line });
  }
  return { esc, lines };
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 120 ? `${t.slice(0, 117)}...` : t;
}
