import type { Readable, Writable } from 'node:stream';
import { isAppError, userMessage } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import { parseCommandArgs } from './argv-parser.js';
import { CommandErrors, validateAppName } from './command-errors.js';
import type { CommandRegistry } from './command-registry.js';
import { commandHelp } from './help-text.js';
import type { Identity, PtyInfo } from './plugin.js';
import type { Services } from './services.js';

export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
  pty: PtyInfo | null;
}

/**
 * Runs one command line (already split into words) for one identity: resolves the command,
 * parses flags, resolves and checks the app, runs it, prints one clear line on failure, and
 * records the audit event. Never throws: returns the exit code.
 */
export class CommandHost {
  constructor(
    private readonly registry: CommandRegistry,
    private readonly services: Services,
    private readonly log: Logger,
  ) {}

  async run(words: string[], identity: Identity, io: CommandIo): Promise<number> {
    const name = words[0] ?? 'help';
    let app: string | null = null;
    let code = 1;
    try {
      const cmd = this.registry.resolve(name);
      const spec = cmd.spec;
      const parsed = parseCommandArgs(words.slice(1), spec);
      if (parsed.help) {
        io.stdout.write(commandHelp(cmd, this.registry));
        code = 0;
        return code;
      }
      if ((spec.adminOnly ?? true) && identity.role !== 'admin') throw CommandErrors.forbidden(cmd.name);
      const args = parsed.positionals;
      const appMode = spec.app ?? 'none';
      if (appMode !== 'none') {
        const given = parsed.app ?? args.shift();
        if (given === undefined) throw CommandErrors.noApp(spec.usage);
        app = validateAppName(given);
        const exists = this.services.state.apps.exists(app);
        if (appMode === 'required' && !exists) throw CommandErrors.appNotFound(app);
        if (appMode === 'new' && exists) throw CommandErrors.appExists(app);
      } else if (parsed.app !== undefined) {
        throw CommandErrors.usage(`'${cmd.name}' takes no app`, spec.usage);
      }
      if (spec.minArgs !== undefined && args.length < spec.minArgs) throw CommandErrors.usage('missing arguments', spec.usage);
      if (spec.maxArgs !== undefined && args.length > spec.maxArgs) {
        throw CommandErrors.usage(`unexpected argument '${args[spec.maxArgs]}'`, spec.usage);
      }
      const log = this.log.child({ command: cmd.name, app, key: identity.keyName });
      const result = await spec.run({
        app: app ?? '',
        args,
        flags: parsed.flags,
        json: parsed.json,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        signal: io.signal,
        identity,
        services: this.services,
        log,
        pty: io.pty,
      });
      code = result ?? 0;
      return code;
    } catch (err) {
      code = isAppError(err) ? err.exitCode : 1;
      if (!isAppError(err)) this.log.error({ err, command: name }, 'command failed unexpectedly');
      else if (err.cause) this.log.warn({ err: err.cause, code: err.code, command: name }, 'command failed');
      io.stderr.write(`error: ${userMessage(err)}\n`);
      return code;
    } finally {
      try {
        this.services.state.events.record({ keyName: identity.keyName, command: name.slice(0, 64), app, exitCode: code });
      } catch (err) {
        this.log.error({ err }, 'audit record failed');
      }
    }
  }
}
