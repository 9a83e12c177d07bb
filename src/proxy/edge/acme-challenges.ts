/** Where ACME http-01 validation asks for a token (RFC 8555 section 8.3). */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** token -> key authorization, as the control plane set them. */
export type ChallengeMap = Record<string, string>;

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export function isChallengeToken(token: string): boolean {
  return TOKEN.test(token);
}

/**
 * The pending http-01 challenges in one worker, answered from memory on port 80 before routing,
 * so a host with no release yet (or no app at all) can be validated.
 */
export class ChallengeStore {
  private tokens = new Map<string, string>();

  replace(map: ChallengeMap): void {
    this.tokens = new Map(Object.entries(map));
  }

  /** The key authorization for a request path under the challenge prefix, if it is pending. */
  answer(url: string): string | undefined {
    if (this.tokens.size === 0 || !url.startsWith(ACME_CHALLENGE_PREFIX)) return undefined;
    const q = url.indexOf('?');
    const token = url.slice(ACME_CHALLENGE_PREFIX.length, q === -1 ? undefined : q);
    return this.tokens.get(token);
  }
}
