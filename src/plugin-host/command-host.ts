import { refusal } from '../contracts/access.js';
import type { CommandIo, Identity } from '../contracts/command-io.js';
import { isAppError, userMessage } from '../errors/app-error.js';
import type { Logger } from '../log/logger.js';
import type { PluginApi } from './plugin-api.js';
import { parseCommandArgs } from './argv-parser.js';
import { CommandErrors, validateAppName } from './command-errors.js';
import { commandHelp } from './help-text.js';
import type { CommandCatalog } from './plugin.js';

/** What the host needs besides the plugins' API: the app check and the audit trail. */
export interface CommandHostDeps {
  commands: CommandCatalog;
  api: PluginApi;
  appExists(app: string): boolean;
  audit(e: { keyName: string | null; command: string; app: string | null; exitCode: number }): void;
  log: Logger;
}

/**
 * Runs one command line (already split into words) for one identity: resolves the command,
 * parses flags, resolves and checks the app, runs it, prints one clear line on failure, and
 * records the audit event. Never throws: returns the exit code.
 */
export class CommandHost {
  constructor(private readonly deps: CommandHostDeps) {}

  async run(words: string[], identity: Identity, io: CommandIo): Promise<number> {
    const name = words[0] ?? 'help';
    let app: string | null = null;
    let code = 1;
    try {
      const cmd = this.deps.commands.resolve(name);
      const spec = cmd.spec;
      const parsed = parseCommandArgs(words.slice(1), spec);
      if (parsed.help) {
        io.stdout.write(commandHelp(cmd, this.deps.commands));
        code = 0;
        return code;
      }
      const args = parsed.positionals;
      const global = spec.global === true && parsed.flags.global === true;
      const access = global ? 'admin' : (spec.access ?? 'admin');
      const appMode = global ? 'none' : (spec.app ?? 'none');
      if (appMode !== 'none') {
        const given = parsed.app ?? args.shift();
        if (given === undefined && appMode !== 'optional') throw CommandErrors.noApp(spec.usage);
        if (given !== undefined) {
          app = validateAppName(given);
          const exists = this.deps.appExists(app);
          // a developer key learns nothing of apps it has no access to, not even whether they exist
          const why = refusal(identity, cmd.name, access, app, exists);
          if (why) throw CommandErrors.forbidden(why);
          if ((appMode === 'required' || appMode === 'optional') && !exists) throw CommandErrors.appNotFound(app);
          if (appMode === 'new' && exists) throw CommandErrors.appExists(app);
        }
      } else {
        if (parsed.app !== undefined) throw CommandErrors.usage(`'${cmd.name}' takes no app`, spec.usage);
        const why = refusal(identity, cmd.name, access, null, false);
        if (why) throw CommandErrors.forbidden(why);
      }
      if (spec.minArgs !== undefined && args.length < spec.minArgs) throw CommandErrors.usage('missing arguments', spec.usage);
      if (spec.maxArgs !== undefined && args.length > spec.maxArgs) {
        throw CommandErrors.usage(`unexpected argument '${args[spec.maxArgs]}'`, spec.usage);
      }
      const log = this.deps.log.child({ command: cmd.name, app, key: identity.keyName });
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
        api: this.deps.api,
        commands: this.deps.commands,
        log,
        pty: io.pty,
      });
      code = result ?? 0;
      return code;
    } catch (err) {
      code = isAppError(err) ? err.exitCode : 1;
      if (!isAppError(err)) this.deps.log.error({ err, command: name }, 'command failed unexpectedly');
      else if (err.cause) this.deps.log.warn({ err: err.cause, code: err.code, command: name }, 'command failed');
      io.stderr.write(`error: ${userMessage(err)}\n`);
      return code;
    } finally {
      try {
        this.deps.audit({ keyName: identity.keyName, command: name.slice(0, 64), app, exitCode: code });
      } catch (err) {
        this.deps.log.error({ err }, 'audit record failed');
      }
    }
  }
}
