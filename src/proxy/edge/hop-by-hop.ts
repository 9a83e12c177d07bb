/** Headers that describe one connection (client-proxy or proxy-upstream), never passed across. Lowercase. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'] as const;

/** The header names a Connection header value lists (lowercase), besides `skip`; null when none. */
export function connectionTokens(value: string | undefined, skip: ReadonlySet<string>): Set<string> | null {
  if (value === undefined) return null;
  const out = new Set<string>();
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && !skip.has(t)) out.add(t);
  }
  return out.size > 0 ? out : null;
}
