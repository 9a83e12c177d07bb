import { errorFactory } from '../errors/app-error.js';

/** Every error the SSH layer throws. A user sees the message as one line; the cause goes to the log. */
export const SshErrors = {
  /** the text given as a public key is empty, a private key, or not an OpenSSH public key line */
  keyInvalid: errorFactory('PAAS_ERR_KEY_INVALID', 2),
  /** ssh-keygen could not create the server's host key */
  hostKey: errorFactory('PAAS_ERR_SSH_HOST_KEY'),
  /** an exec request longer than MAX_COMMAND_LENGTH */
  commandTooLong: errorFactory('PAAS_ERR_SSH_COMMAND_TOO_LONG', 2),
  /** an exec request with shell syntax (operators, comments): paas runs no shell */
  commandSyntax: errorFactory('PAAS_ERR_SSH_COMMAND_SYNTAX', 2),
} as const;
