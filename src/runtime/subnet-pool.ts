/**
 * Subnets for the per-app networks. Docker's default address pools hold about 30 bridge
 * networks, so one network per app would stop at about 30 apps; paas gives each app network a
 * /24 from its own pool instead (default 172.16.0.0/16, which Docker's defaults leave unused:
 * 256 apps), skipping every subnet already used by a Docker network or a host interface.
 */

export const DEFAULT_NETWORK_POOL = '172.16.0.0/16';

const toInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** `a.b.c.d/n` -> [first, size], or null for anything that is not an IPv4 CIDR. */
export function parseCidr(cidr: string): [number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return null;
  const size = 2 ** (32 - bits);
  return [Math.floor(toInt(octets.join('.')) / size) * size, size];
}

function overlaps(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[0] + b[1] && b[0] < a[0] + a[1];
}

/** The first /24 of `pool` that overlaps none of `used` (CIDRs; others are ignored), or null when the pool is full. */
export function pickSubnet(pool: string, used: string[]): string | null {
  const p = parseCidr(pool);
  if (!p || p[1] < 256) return null;
  const taken = used.map(parseCidr).filter((c): c is [number, number] => c !== null);
  for (let start = p[0]; start < p[0] + p[1]; start += 256) {
    const candidate: [number, number] = [start, 256];
    if (!taken.some((t) => overlaps(candidate, t))) return `${toIp(start)}/24`;
  }
  return null;
}
