import net from 'node:net';

/** Client address as the proxy compares it: IPv4-mapped IPv6 ("::ffff:1.2.3.4") becomes plain IPv4. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The proxies in front of paas whose X-Forwarded-* / X-Real-IP / Forwarded headers
 * are believed (`--trusted-proxies CIDR,...`, e.g. Cloudflare's ranges). Everyone else's are replaced.
 */
export class TrustedProxies {
  readonly cidrs: readonly string[];
  private readonly list = new net.BlockList();

  /** Throws a plain Error naming the bad entry; config turns it into its own error. */
  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs;
    for (const entry of cidrs) {
      const [ip, bits, extra] = entry.split('/');
      const family = net.isIP(ip);
      if (family === 0 || extra !== undefined) throw new Error(`'${entry}' is not an IP address or CIDR range`);
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : Number(bits);
      if (!/^\d+$/.test(bits ?? String(max)) || prefix > max) throw new Error(`'${entry}' has an invalid prefix length`);
      this.list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Parses the flag's value: comma-separated, blanks ignored. */
  static parse(text: string | undefined): TrustedProxies {
    const entries = (text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return new TrustedProxies(entries);
  }

  get empty(): boolean {
    return this.cidrs.length === 0;
  }

  has(address: string): boolean {
    if (this.cidrs.length === 0 || address === '') return false;
    const family = net.isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address behind trusted proxies: the X-Forwarded-For chain read from the right,
   * skipping trusted hops (nginx's real_ip_recursive); the peer itself when it is not trusted.
   */
  clientAddress(peer: string, forwardedFor: string | undefined): string {
    if (!this.has(peer) || forwardedFor === undefined) return peer;
    const hops = forwardedFor.split(',').map((s) => plainAddress(s.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      if (hops[i] !== '' && !this.has(hops[i])) return hops[i];
    }
    return hops[0] || peer;
  }
}
