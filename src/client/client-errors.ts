import { errorFactory } from '../errors/app-error.js';

/** Every error the `paas` client throws before it runs ssh; all are usage errors, exit 2. */
export const ClientErrors = {
  /** a client flag (--remote, --host, --ssh-port, --app) without its value */
  usage: errorFactory('PAAS_ERR_CLIENT_USAGE', 2),
  /** no --host given and no git remote of that name in the current checkout */
  noRemote: errorFactory('PAAS_ERR_CLIENT_NO_REMOTE', 2),
  /** the git remote's URL names no host and app the client can read */
  badRemote: errorFactory('PAAS_ERR_CLIENT_REMOTE', 2),
} as const;
