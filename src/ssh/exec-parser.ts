import { parse } from 'shell-quote';
import { SshErrors } from './ssh-errors.js';

export const MAX_COMMAND_LENGTH = 8192;

/**
 * Splits an SSH exec request into words as a POSIX shell would, without running one.
 * Variables stay literal; operators, globs and comments are refused.
 */
export function parseExecCommand(command: string): string[] {
  if (command.length > MAX_COMMAND_LENGTH) {
    throw SshErrors.commandTooLong(`command is longer than ${MAX_COMMAND_LENGTH} bytes`);
  }
  const words: string[] = [];
  for (const entry of parse(command, (name) => `$${name}`)) {
    if (typeof entry === 'string') words.push(entry);
    else if ('op' in entry && entry.op === 'glob') words.push(entry.pattern);
    else {
      const what = 'comment' in entry ? `'#'` : `'${(entry as { op: string }).op}'`;
      throw SshErrors.commandSyntax(`shell syntax ${what} is not supported: paas runs no shell; quote the argument`);
    }
  }
  return words;
}
