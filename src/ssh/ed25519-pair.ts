import ssh2 from 'ssh2';

export interface KeyPairText {
  /** OpenSSH private key (PEM) */
  private: string;
  /** `ssh-ed25519 AAAA…` (with the comment when one was given) */
  public: string;
}

/**
 * A new ed25519 key pair in OpenSSH's formats. ssh2's generator drops the leading zero byte of a
 * public key that starts with one (about 1 key in 256), and ssh2 itself then refuses both halves
 * as malformed, so a pair is only handed out once both halves parse.
 */
export function generateEd25519Pair(comment?: string): KeyPairText {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', comment ? { comment } : undefined);
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error)) {
      return pair;
    }
  }
}
