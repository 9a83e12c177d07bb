import { AppError } from '../errors/app-error.js';

/** Error catalog of the command layer. Exit 2 for usage errors, 1 for refusals. */
export const CommandErrors = {
  unknown: (name: string, suggestion: string | null) =>
    new AppError('PAAS_ERR_CMD_UNKNOWN', `unknown command '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (see 'help')`, {
      exitCode: 2,
    }),
  usage: (message: string, usage: string) => new AppError('PAAS_ERR_CMD_USAGE', `${message} (usage: ${usage})`, { exitCode: 2 }),
  badAppName: (name: string) =>
    new AppError(
      'PAAS_ERR_APP_NAME',
      `invalid app name '${name}': use 1-48 characters, lowercase letters, digits and '-', starting with a letter`,
      { exitCode: 2 },
    ),
  noApp: (usage: string) =>
    new AppError('PAAS_ERR_APP_MISSING', `no app given: pass it as the first argument or with --app NAME (usage: ${usage})`, {
      exitCode: 2,
    }),
  appNotFound: (name: string) => new AppError('PAAS_ERR_APP_NOT_FOUND', `app '${name}' does not exist`),
  appExists: (name: string) => new AppError('PAAS_ERR_APP_EXISTS', `app '${name}' already exists`),
  forbidden: (command: string) => new AppError('PAAS_ERR_CMD_FORBIDDEN', `'${command}' needs an admin key`),
  duplicate: (command: string, a: string, b: string) =>
    new AppError('PAAS_ERR_PLUGIN_DUPLICATE', `command '${command}' is declared by both plugin '${a}' and plugin '${b}'`),
  missingDependency: (plugin: string, dep: string) =>
    new AppError('PAAS_ERR_PLUGIN_DEPENDENCY', `plugin '${plugin}' needs plugin '${dep}', which is not loaded`),
};

export const APP_NAME = /^[a-z][a-z0-9-]{0,47}$/;

export function validateAppName(name: string): string {
  if (!APP_NAME.test(name)) throw CommandErrors.badAppName(name);
  return name;
}
