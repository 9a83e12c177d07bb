import dgram from 'node:dgram';
import net from 'node:net';
import { quote } from 'shell-quote';

/**
 * The ports Swarm needs between the manager and a node, checked before the node joins:
 * - node → manager, TCP: 2377 (cluster management), 7946 (gossip) and the registry's port. The
 *   manager's engine and the registry listen on them, so a connect from the node (bash's
 *   /dev/tcp under `timeout`) is a real check.
 * - manager → node: 7946/tcp, 7946/udp and 4789/udp (VXLAN). Nothing listens on them before the
 *   node joins, so paas starts a small listener on the node (perl, which every Debian has:
 *   perl-base is essential) and sends it a connection and datagrams carrying a random token;
 *   a port counts as open only when the listener reports the token. UDP from the node to the
 *   manager is not checked: the manager's dockerd holds 7946/udp and the kernel 4789/udp, so
 *   nothing of paas's can answer there.
 */
export interface PortCheck {
  port: number;
  proto: 'tcp' | 'udp';
  /** which way the traffic goes, as the failure names it */
  direction: 'node->manager' | 'manager->node';
  what: string;
}

/** The node → manager TCP probe: prints `open HOST:PORT` or `closed HOST:PORT` per target. */
export function tcpProbeCommand(targets: { host: string; port: number }[]): string {
  const list = targets.map((t) => `${t.host}/${t.port}`);
  const loop =
    'for t in "$@"; do if timeout 3 bash -c "exec 3<>/dev/tcp/$t" 2>/dev/null; then echo "open $t"; else echo "closed $t"; fi; done';
  return quote(['bash', '-c', loop, 'probe', ...list]);
}

/** The targets the probe found closed (as `host/port`). */
export function closedTargets(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('closed '))
    .map((l) => l.slice('closed '.length).trim());
}

const LISTENER = `
use IO::Socket::INET; use IO::Select; $| = 1;
my ($token, @specs) = @ARGV; my $sel = IO::Select->new; my %name;
for my $spec (@specs) {
  my ($proto, $port) = split m{/}, $spec;
  my $s = IO::Socket::INET->new(LocalPort => $port, Proto => $proto, ReuseAddr => 1, ($proto eq 'tcp' ? (Listen => 5) : ()));
  if (!$s) { print "busy $spec\\n"; next }
  $sel->add($s); $name{$s} = $spec;
}
print "ready\\n"; alarm 20;
while ($sel->count && (my @r = $sel->can_read(20))) {
  for my $s (@r) {
    my $spec = $name{$s}; my $buf = '';
    if ($spec =~ /^tcp/) { my $c = $s->accept or next; $c->recv($buf, 64); close $c } else { $s->recv($buf, 64) }
    if ($buf eq $token) { print "got $spec\\n"; $sel->remove($s) }
  }
}`;

/** The listener run on the node for the manager → node checks. */
export function listenerCommand(token: string, specs: string[]): string {
  return quote(['perl', '-e', LISTENER, token, ...specs]);
}

/** Sends `token` to host:port over TCP (connect and write) or UDP (a few datagrams), never throwing. */
export async function sendToken(host: string, port: number, proto: 'tcp' | 'udp', token: string): Promise<void> {
  if (proto === 'tcp') {
    await new Promise<void>((resolve) => {
      const s = net.connect({ host, port, timeout: 3000 }, () => s.end(token));
      s.once('close', () => resolve());
      s.once('error', () => resolve());
      s.once('timeout', () => s.destroy());
    });
    return;
  }
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  // an ICMP "port unreachable" arrives as an error: the listener's report decides, not this
  sock.on('error', () => {});
  try {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => sock.send(token, port, host, () => resolve()));
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    sock.close();
  }
}
