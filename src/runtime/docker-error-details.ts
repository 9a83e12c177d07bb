/** The HTTP status of a dockerode error (404 no such container/image, 409 conflict, ...), if it has one. */
export function statusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The engine's own message (`json.message`) rather than dockerode's "(HTTP code 404) no such container -" prefix. */
export function engineMessage(e: unknown): string {
  const j = (e as { json?: { message?: string } } | null)?.json;
  if (j && typeof j.message === 'string') return j.message;
  return errMessage(e);
}

/** An error's message, or the thrown value as a string. */
export function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
