/**
 * The dashboard's open streams (SSE) by session, so revoking a session or removing its key ends
 * them at once instead of at their next request.
 */
export class SessionStreams {
  private readonly open = new Map<AbortController, { session: string; fingerprint: string }>();

  add(session: string, fingerprint: string): AbortController {
    const ac = new AbortController();
    this.open.set(ac, { session, fingerprint });
    ac.signal.addEventListener('abort', () => this.open.delete(ac), { once: true });
    return ac;
  }

  endSessions(ids: readonly string[]): void {
    const set = new Set(ids);
    for (const [ac, s] of this.open) if (set.has(s.session)) ac.abort();
  }

  endKey(fingerprint: string): void {
    for (const [ac, s] of this.open) if (s.fingerprint === fingerprint) ac.abort();
  }

  size(): number {
    return this.open.size;
  }
}
