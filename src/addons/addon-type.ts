/**
 * A kind of database paas runs as an add-on, as data: what to run, where it keeps its data, how
 * an app reaches it, and the commands (argv, run inside its container) that probe, dump, check
 * and restore it. Adding a kind (MySQL, ...) is one more file like postgres-type.ts listed in
 * addon-types.ts; the commands, backups and links are the same code for every kind.
 */
export interface AddonCredentials {
  user: string;
  password: string;
  database: string;
}

/**
 * Per-app logins of a database that has roles: each linked app gets its own login, which owns the
 * app's own namespace and nothing else (no superuser, no role or database creation, no server
 * programs or files). Each member returns a script run by `run` (the superuser's client, script on
 * stdin) inside the add-on's container.
 */
export interface AppLogins {
  /** the login of `app`, also the name of the namespace it owns: `app_my_app` */
  name(app: string): string;
  /** argv of the superuser's client reading a script on stdin (exits non-zero at the first error) */
  run: string[];
  /** creates the login (or enables it again, with a new password), confined to its own namespace */
  grant(login: string, password: string): string;
  /** after unlink: the login can no longer log in and its sessions are cut; its data stays */
  disable(login: string): string;
  /** after apps:destroy: the login and everything it owns are gone */
  drop(login: string): string;
}

export interface AddonType {
  /** the command namespace and the label value: `postgres` (`postgres:create`, ...) */
  name: string;
  /** the client named in help texts: `psql` */
  clientName: string;
  /** the image used when `create` is given none; `imageEnv` overrides it (tests point it at local images) */
  defaultImage: string;
  imageEnv: string;
  port: number;
  /** the user the generated credentials name */
  defaultUser: string;
  /** where the named volume is mounted in the container */
  volumePath: string;
  /** per-app logins (null: every linked app gets the generated credentials, e.g. Redis's one password) */
  appLogins: AppLogins | null;
  /** the variable `link` sets on the app unless `--alias` names another */
  urlVar: string;
  /** container env from the generated credentials */
  env(c: AddonCredentials): Record<string, string>;
  /** container command (null: the image's own CMD) */
  command(c: AddonCredentials): string[] | null;
  /** what the linked app gets: `postgres://user:pw@host:5432/db` */
  url(c: AddonCredentials, host: string): string;
  /** exits 0 once the database accepts connections */
  probe: string[];
  /** prints the server version on its first line */
  version: string[];
  /** an interactive client (`connect`) */
  connect: string[];
  /** the data set, written to stdout (`export`, `backup`) */
  dump: string[];
  /** the backup file's extension; `gzip`: backups are gzipped by paas (a dump that is not compressed already) */
  backup: { ext: string; gzip: boolean };
  /** checks the dump in `{file}`; exits non-zero when it is not a complete dump. stdout: what it holds */
  verify: string[];
  /**
   * How a checked dump in `{file}` replaces the data: `exec` runs `argv` in the running container
   * (all or nothing); `file` stops the container, moves the dump to `path` and starts it again.
   */
  restore: { kind: 'exec'; argv: string[] } | { kind: 'file'; path: string };
  /**
   * Refuses writes from every client until `thawWrites` (or, for a setting that is not saved, a
   * restart): a major upgrade runs it before its dump, so a write made meanwhile fails loudly at
   * the app instead of being lost with the old data files.
   */
  freezeWrites: string[];
  thawWrites: string[];
  /** the data set's size in bytes, printed by a command (null: the volume's size is shown) */
  size: string[] | null;
}

/** Replaces `{file}` in a command's argv. */
export function withFile(argv: string[], file: string): string[] {
  return argv.map((a) => a.replaceAll('{file}', file));
}

/** The last non-blank line of a command's output: the reason a dump, check or script failed. */
export function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .slice(-1)[0] ?? ''
  );
}
