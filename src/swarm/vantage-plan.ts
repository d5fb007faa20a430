// The pure parts of the swarm vantage (vantage.ts): which overlay networks it joins, the `docker run` it is started with,
// the relay each port runs, and how Docker's port list reads. Kept apart so they are tested without Docker.

import { FaultlineError } from '../errors.js';
import { LABEL } from '../stack/docker-types.js';

/** The name the vantage answers to on every network it joins: the reference stack's firewalls admit it as "operator". */
export const DEFAULT_ALIAS = 'faultline-operator';
/** Container ports the relays listen on; each is published on the manager's 127.0.0.1 only, at a port Docker picks. */
export const SLOT_BASE = 40000;
export const SLOTS = 24;
/** The vantage ends by itself this long after its last renewal (a SIGKILLed faultline renews nothing). */
export const LEASE_S = 90;
export const RENEW_MS = 20_000;

/** A stack network as the manager lists it. */
export interface StackNetwork {
  name: string;
  attachable: boolean;
  scope: string;
}

/**
 * The networks the vantage joins (pure): those the description names (each must be one of the stack's and attachable),
 * else every attachable network of the stack, the internal network first (the one probes address tasks on).
 */
export function pickNetworks(declared: readonly string[] | undefined, stack: readonly StackNetwork[], internal: string, project: string): string[] {
  const attachable = stack.filter((n) => n.attachable).map((n) => n.name);
  if (declared?.length) {
    const bad = declared.filter((n) => !attachable.includes(n));
    if (bad.length)
      throw new FaultlineError(
        'INVALID_INPUT',
        `stack.vantage.networks: ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not an attachable network of stack ${project} (attachable: ${attachable.join(', ') || 'none'})`,
        { hint: 'give the network `attachable: true` in the stack file (an overlay network is not attachable by default)' },
      );
    return [...declared];
  }
  if (attachable.length === 0)
    throw new FaultlineError('UNKNOWN_TARGET', `stack ${project} has no attachable network: faultline has no way onto its overlay`, {
      hint: 'give the stack network(s) `attachable: true` (docs/swarm.md "The vantage")',
    });
  return attachable.sort((a, b) => Number(b === internal) - Number(a === internal) || a.localeCompare(b));
}

/**
 * One relay: listens on a container port and copies each connection both ways to one task address, a process per
 * connection. Perl, because the stack's own host image is what helpers run from and perl-base is in every Debian or
 * Ubuntu image. Only the Docker bridge's gateway (where a published port's connections come from) is served: another
 * task on the overlay connecting to the vantage is closed at once, so nothing inside the stack can borrow the operator's
 * address.
 */
export const RELAY_SCRIPT = [
  'use IO::Socket::INET; use IO::Select;',
  'my ($lp, $host, $port, $allow) = @ARGV; $SIG{CHLD} = "IGNORE";',
  'my $l = IO::Socket::INET->new(LocalPort => $lp, Listen => 64, ReuseAddr => 1) or die "listen $lp: $!";',
  'while (1) { my $c = $l->accept or next;',
  '  if ($allow ne "" && $c->peerhost ne $allow) { close $c; next }',
  '  if (fork) { close $c; next } close $l;',
  '  my $u = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 5) or exit 1;',
  '  my $s = IO::Select->new($c, $u);',
  '  while (my @r = $s->can_read) { for my $f (@r) { my $n = sysread($f, my $b, 65536); exit 0 unless $n;',
  '    my $to = $f == $c ? $u : $c; my $o = 0; while ($o < $n) { my $w = syswrite($to, $b, $n - $o, $o); exit 0 unless $w; $o += $w } } } }',
].join('\n');

/** The exec that starts one relay in the background and returns once it listens (bash /dev/tcp, up to 5 s). Pure. */
export function relayCommand(slot: number, host: string, port: number, allow: string): string[] {
  const lp = String(SLOT_BASE + slot);
  return [
    'bash',
    '-c',
    'nohup perl -e "$1" "$2" "$3" "$4" "$5" > /dev/null 2>&1 &\nfor _ in $(seq 50); do (exec 3<> "/dev/tcp/127.0.0.1/$2") 2> /dev/null && exit 0; sleep 0.1; done; exit 1',
    'relay',
    RELAY_SCRIPT,
    lp,
    host,
    String(port),
    allow,
  ];
}

/** The main process: waits while the lease file lies in the future, so the vantage ends by itself when nobody renews it. */
export const LEASE_LOOP = `echo $(( $(date +%s) + ${LEASE_S} )) > /tmp/lease; while [ "$(date +%s)" -lt "$(cat /tmp/lease)" ]; do sleep 2; done`;
export const RENEW_COMMAND = ['bash', '-c', `echo $(( $(date +%s) + ${LEASE_S} )) > /tmp/lease`];

/** `docker run` arguments for the vantage on its first network (the others are connected after). Pure. */
export function runArgs(o: { name: string; image: string; project: string; network: string; alias: string; holder: string }): string[] {
  const labels = {
    [LABEL.stack]: o.project,
    [LABEL.helper]: 'vantage',
    [LABEL.role]: 'vantage',
    [LABEL.component]: 'vantage-operator',
    [LABEL.holder]: o.holder,
  };
  return [
    'run',
    '--detach',
    '--rm',
    '--init',
    '--name',
    o.name,
    '--user',
    '65534:65534',
    ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    '--network',
    o.network,
    '--network-alias',
    o.alias,
    '--publish',
    `127.0.0.1::${SLOT_BASE}-${SLOT_BASE + SLOTS - 1}`,
    '--entrypoint',
    'bash',
    o.image,
    '-c',
    LEASE_LOOP,
  ];
}

/** `docker port` lines ("40000/tcp -> 127.0.0.1:49153") → container port → host port, loopback only. Pure. */
export function parsePorts(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\/tcp -> 127\.0\.0\.1:(\d+)$/.exec(line.trim());
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** Loopback hosts are dialled as they are: the vantage relays only to the stack's own task addresses. Pure. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
