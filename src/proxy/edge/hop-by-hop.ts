/** Headers that describe one connection (client-proxy or proxy-upstream), never passed across. Lowercase. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'] as const;

/** The header names a Connection header value lists (lowercase), besides `skip`; null when none. */
export function connectionTokens(value: string | undefined, skip: ReadonlySet<string>): Set<string> | null {
  if (value === undefined) return null;
  // what Node and most servers send on every kept-alive response and request, compared as it comes
  if (value === 'keep-alive' && skip.has(value)) return null;
  // the usual value is one option ("keep-alive", "close"): no split, no set
  const one = value.indexOf(',') === -1 ? value.trim().toLowerCase() : null;
  if (one !== null) return one === '' || skip.has(one) ? null : new Set([one]);
  let out: Set<string> | null = null;
  for (const token of value.split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || skip.has(t)) continue;
    out ??= new Set<string>();
    out.add(t);
  }
  return out;
}
