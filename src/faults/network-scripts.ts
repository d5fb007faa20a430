// The shell of the network faults, built from validated fields (never read back as text from the state file): tc
// netem under faultline's own handle, with a prio qdisc and u32 filters when the fault is narrowed to peers or a
// port; nftables tables for loss and partition, narrowed the same way (ip saddr/daddr, tcp sport/dport). Pure.

import { z } from 'zod';
import { diversionSchema } from './proxy-config.js';

/**
 * The root qdisc handle faultline adds netem (or, narrowed, the prio qdisc holding it) under. Revert and the dead
 * man's switch delete only a root qdisc with this handle, so a qdisc that was there before is never touched.
 */
export const NETEM_HANDLE = 'fa17:';

const TABLE = /^fl_[a-z0-9]{1,24}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/** A narrowing: only traffic to or from these addresses, and only TCP of this port (either end); unset: everything. */
const filter = {
  peerAddrs: z.array(z.string().regex(IPV4)).optional(),
  port: z.number().int().min(1).max(65535).optional(),
};

/**
 * What a network fault does, as validated fields. `proxy` is net-latency where the kernel has no netem: the fault
 * proxy delays what the server sends on one port (proxy-helper.ts).
 */
export const effectSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('netem'),
    delayMs: z.number().int().min(1).max(60_000),
    jitterMs: z.number().int().min(0).max(60_000),
    ...filter,
    /** Where the fault proxy would listen if this kernel has no netem (only with a port). */
    fallback: diversionSchema.optional(),
  }),
  z.object({
    kind: z.literal('proxy'),
    delayMs: z.number().int().min(1).max(60_000),
    jitterMs: z.number().int().min(0).max(60_000),
    diversion: diversionSchema,
  }),
  z.object({ kind: z.literal('loss'), table: z.string().regex(TABLE), percent: z.number().min(0).max(100), ...filter }),
  z.object({ kind: z.literal('partition'), table: z.string().regex(TABLE), peers: z.array(z.string().regex(IPV4)).min(1), port: filter.port }),
]);
export type NetEffect = z.infer<typeof effectSchema>;

export interface Scripts {
  apply: string;
  revert: string;
  /** Prints something non-empty while the fault is in place. */
  probe: string;
}

// Every interface but loopback: on the LB that is both the edge and the internal network.
const IFACES = `$(ls /sys/class/net | grep -vx lo)`;

/** The match of a narrowing in nft: one rule body per combination (a port is matched at either end: two rules). */
export function nftMatches(dir: 'saddr' | 'daddr', peerAddrs: string[] | undefined, port: number | undefined): string[] {
  const peer = peerAddrs?.length ? `ip ${dir} { ${peerAddrs.join(', ')} } ` : '';
  return port ? [`${peer}tcp sport ${port} `, `${peer}tcp dport ${port} `] : [peer];
}

/** u32 filters sending the narrowed traffic to band 4 (the netem's): one per peer and port end. */
function u32Filters(peerAddrs: string[] | undefined, port: number | undefined): string[] {
  const peers = peerAddrs?.length ? peerAddrs.map((p) => `match ip dst ${p}/32 `) : [''];
  const ports = port ? [`match ip sport ${port} 0xffff `, `match ip dport ${port} 0xffff `] : [''];
  return peers.flatMap((p) =>
    ports.map((q) => `tc filter add dev $i parent ${NETEM_HANDLE} protocol ip prio 1 u32 ${p}${q}flowid ${NETEM_HANDLE.slice(0, -1)}:4`),
  );
}

/** Shell snippets for netem under faultline's own handle on every interface, narrowed by a prio qdisc when asked. Pure. */
export function netemScripts(netem: string, narrow: { peerAddrs?: string[] | undefined; port?: number | undefined } = {}): Scripts {
  const narrowed = Boolean(narrow.peerAddrs?.length || narrow.port);
  const kind = narrowed ? '(prio|netem)' : 'netem';
  const fail =
    "{ grep -q 'kind is unknown' /tmp/tc.err && echo 'this kernel has no netem (CONFIG_NET_SCH_NETEM is not set)' >&2; grep -qE 'Exclusivity flag|NLM_F_REPLACE' /tmp/tc.err && echo \"$i already has a root qdisc that is not faultline's\" >&2; cat /tmp/tc.err >&2; exit 3; }";
  // Narrowed: a prio qdisc whose three usual bands carry everything as before, and a fourth (netem) that only the
  // filters' traffic reaches.
  const add = narrowed
    ? [
        `tc qdisc add dev $i root handle ${NETEM_HANDLE} prio bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1 2>/tmp/tc.err || ${fail}`,
        `tc qdisc add dev $i parent ${NETEM_HANDLE.slice(0, -1)}:4 handle fa18: netem ${netem} 2>/tmp/tc.err || ${fail}`,
        ...u32Filters(narrow.peerAddrs, narrow.port).map((f) => `${f} 2>/tmp/tc.err || ${fail}`),
      ].join('; ')
    : `tc qdisc add dev $i root handle ${NETEM_HANDLE} netem ${netem} 2>/tmp/tc.err || ${fail}`;
  return {
    // `add`, not `replace`: a second netem fault, or a root qdisc the user had, makes it fail, not be taken over.
    // The error names what is missing rather than tc's "Specified qdisc kind is unknown".
    apply: `for i in ${IFACES}; do ${add}; done`,
    // Only a root qdisc with our handle: tc refuses to delete one whose handle differs.
    revert: `for i in ${IFACES}; do tc qdisc show dev $i root | grep -q${narrowed ? 'E' : ''} '^qdisc ${kind} ${NETEM_HANDLE} ' && tc qdisc del dev $i root handle ${NETEM_HANDLE} 2>/dev/null; done; true`,
    probe: `tc qdisc show | grep${narrowed ? ' -E' : ''} '^qdisc ${kind} ${NETEM_HANDLE} ' || true`,
  };
}

/**
 * Shell snippets for packet loss with nftables (numgen), which needs no netem: some kernels (this project's
 * CI VMs among them) are built without CONFIG_NET_SCH_NETEM. Narrowed to peers (their addresses) and a port. Pure.
 */
export function lossScripts(table: string, percent: number, peerAddrs?: string[], port?: number): Scripts {
  // Hundredths of a percent; nft refuses a bound equal to the modulus, so 100% is a plain drop.
  const match = percent >= 100 ? '' : `numgen random mod 10000 < ${Math.round(percent * 100)} `;
  // One statement per line: nft 1.0.6 (bookworm) rejects `… drop; } }` closed on the same line.
  const rules = nftMatches('daddr', peerAddrs, port).map((m) => `oifname != "lo" ${m}${match}drop;`);
  return nftTableScripts(table, [`  chain fl_out { type filter hook output priority -10; policy accept; ${rules.join(' ')} }`]);
}

/** Shell snippets for a partition: an nftables table dropping traffic to and from the other side (of one port only, if given). Pure. */
export function partitionScripts(table: string, peers: string[], port?: number): Scripts {
  const rules = (dir: 'saddr' | 'daddr') =>
    nftMatches(dir, peers, port)
      .map((m) => `${m}drop;`)
      .join(' ');
  // Priority -10 runs before the server's own firewall, so even established connections are cut.
  return nftTableScripts(table, [
    `  chain fl_in { type filter hook input priority -10; policy accept; ${rules('saddr')} }`,
    `  chain fl_out { type filter hook output priority -10; policy accept; ${rules('daddr')} }`,
  ]);
}

/** Apply, revert and probe for a table of faultline's own holding these chains (one per line). Pure. */
function nftTableScripts(table: string, chains: string[]): Scripts {
  const ruleset = [`table inet ${table} {`, ...chains, `}`].join('\n');
  return {
    apply: `printf '%s\\n' '${ruleset}' | nft -f -`,
    revert: `nft delete table inet ${table} 2>/dev/null || true`,
    probe: `nft list table inet ${table} 2>/dev/null | head -1 || true`,
  };
}

/** The netem arguments for a delay with jitter. Pure. */
export function netemArgs(delayMs: number, jitterMs: number): string {
  return `delay ${delayMs}ms ${jitterMs}ms${jitterMs > 0 ? ' distribution normal' : ''}`;
}

/** The shell for an effect, rebuilt from its validated fields (re-checked here: the last line of defence). Pure. */
export function scriptsFor(effect: NetEffect | { kind: 'legacy-netem' }): Scripts {
  const checked = effect.kind === 'legacy-netem' ? effect : effectSchema.parse(effect);
  switch (checked.kind) {
    case 'netem':
      return netemScripts(netemArgs(checked.delayMs, checked.jitterMs), checked);
    case 'proxy':
      throw new Error('the fault proxy is undone through its helper (proxy-helper.ts), not by a script');
    case 'loss':
      return lossScripts(checked.table, checked.percent, checked.peerAddrs, checked.port);
    case 'partition':
      return partitionScripts(checked.table, checked.peers, checked.port);
    case 'legacy-netem':
      // Written before faultline used its own handle: only a root netem qdisc is removed, nothing else.
      return {
        apply: 'false',
        revert: `for i in ${IFACES}; do tc qdisc show dev $i root | grep -q '^qdisc netem ' && tc qdisc del dev $i root 2>/dev/null; done; true`,
        probe: `tc qdisc show | grep '^qdisc netem ' || true`,
      };
  }
}
