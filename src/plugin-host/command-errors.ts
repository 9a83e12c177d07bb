import { isAppName } from '../contracts/names.js';
import { errorFactory } from '../errors/app-error.js';

const E = {
  unknown: errorFactory('PAAS_ERR_CMD_UNKNOWN', 2),
  usage: errorFactory('PAAS_ERR_CMD_USAGE', 2),
  badAppName: errorFactory('PAAS_ERR_APP_NAME', 2),
  noApp: errorFactory('PAAS_ERR_APP_MISSING', 2),
  appNotFound: errorFactory('PAAS_ERR_APP_NOT_FOUND'),
  appExists: errorFactory('PAAS_ERR_APP_EXISTS'),
  forbidden: errorFactory('PAAS_ERR_CMD_FORBIDDEN'),
  duplicate: errorFactory('PAAS_ERR_PLUGIN_DUPLICATE'),
  stdinTooLarge: errorFactory('PAAS_ERR_STDIN_TOO_LARGE', 2),
  aborted: errorFactory('PAAS_ERR_ABORTED'),
};

/** Error catalog of the command layer. Exit 2 for usage errors, 1 for refusals. */
export const CommandErrors = {
  codes: E,
  unknown: (name: string, suggestion: string | null) =>
    E.unknown(`unknown command '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (see 'help')`),
  usage: (message: string, usage: string) => E.usage(`${message} (usage: ${usage})`),
  badAppName: (name: string) =>
    E.badAppName(`invalid app name '${name}': use 1-48 characters, lowercase letters, digits and '-', starting with a letter`),
  noApp: (usage: string) => E.noApp(`no app given: pass it as the first argument or with --app NAME (usage: ${usage})`),
  appNotFound: (name: string) => E.appNotFound(`app '${name}' does not exist`),
  appExists: (name: string) => E.appExists(`app '${name}' already exists`),
  forbidden: (reason: string) => E.forbidden(reason),
  duplicate: (command: string, a: string, b: string) =>
    E.duplicate(`command '${command}' is declared by both plugin '${a}' and plugin '${b}'`),
  stdinTooLarge: (limit: number) => E.stdinTooLarge(`stdin is larger than ${limit} bytes`),
  aborted: () => E.aborted('cancelled'),
};

export function validateAppName(name: string): string {
  if (!isAppName(name)) throw CommandErrors.badAppName(name);
  return name;
}
