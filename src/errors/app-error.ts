/**
 * The one error type domain code throws. `code` is stable (PAAS_ERR_<AREA>_<WHAT>),
 * `message` is the single line a user sees, `cause` keeps the underlying error for the log.
 */
export interface AppErrorOptions {
  cause?: unknown;
  /** exit status for SSH commands and the CLI */
  exitCode?: number;
  /** status for HTTP APIs */
  status?: number;
}

export class AppError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly status: number;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
    this.status = options.status ?? 400;
  }
}

/** One entry of a module's error catalog: makes AppErrors of one code; `code` names it for tests and docs. */
export type ErrorFactory = ((message: string, cause?: unknown) => AppError) & { readonly code: string };

/**
 * Declares one entry of a module's error catalog, e.g.
 * `export const GitErrors = { noRepo: errorFactory('PAAS_ERR_GIT_NO_REPO') }`, thrown as
 * `throw GitErrors.noRepo(message)`, the message written where the error is thrown.
 */
export function errorFactory(code: string, exitCode = 1, status = 400): ErrorFactory {
  const make = (message: string, cause?: unknown): AppError => new AppError(code, message, { cause, exitCode, status });
  return Object.assign(make, { code } as const);
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** One line for a user: an AppError's message, or a generic line for anything unexpected. */
export function userMessage(e: unknown): string {
  if (isAppError(e)) return e.message;
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}
