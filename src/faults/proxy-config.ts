// What the fault proxy (compose/images/proxy/proxy.mjs) is told, and the nftables text that diverts one port to it:
// the proxy's configuration as validated fields, the redirect table, the firewall rules that admit diverted
// connections, and the shell that undoes and probes them. Everything here is pure; the shell is built from validated
// values only (ports, addresses, table names, fault ids), never read back from the state file as text.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';

/** The uid the proxy runs as once listening: local traffic from it is never diverted (its own connections to the service). */
export const PROXY_UID = 64017;
/**
 * Where diverted connections land: a port in this range, drawn at planning, beside the target's own ports. Above Linux's
 * default ephemeral range (32768–60999): a port drawn inside it was taken by an outgoing connection of the server once
 * (EADDRINUSE).
 */
export const PROXY_PORTS = { from: 61000, to: 61999 } as const;

const TABLE = /^fl_[a-z0-9]{1,24}$/;
const FAULT_ID = /^[a-z0-9-]{1,80}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/;
const NFT_TABLE = /^(inet|ip|ip6) [A-Za-z0-9_-]{1,64}$/;
const NFT_CHAIN = /^[A-Za-z0-9_-]{1,64}$/;

const ms = z.number().int().min(0).max(3_600_000);
const streamToxics = z
  .object({
    latency: z.object({ ms, jitter: ms }).strict().optional(),
    /** Bytes per second. */
    bandwidth: z.number().int().min(1).max(10_000_000_000).optional(),
  })
  .strict();

/** The proxy's configuration (PROXY_CONFIG), as faultline records and passes it. */
export const proxyConfigSchema = z
  .object({
    listen: z.number().int().min(1).max(65535),
    upstreamPort: z.number().int().min(1).max(65535),
    mode: z.enum(['tcp', 'http']),
    /** The share of connections (tcp) or of matching requests (http) the toxic applies to, 0–1. */
    ratio: z.number().min(0).max(1),
    uid: z.literal(PROXY_UID),
    toxics: z
      .object({
        down: streamToxics.optional(),
        up: streamToxics.optional(),
        slowClose: z.object({ ms }).strict().optional(),
        reset: z.object({ afterMs: ms }).strict().optional(),
        timeout: z.object({ ms }).strict().optional(),
      })
      .strict()
      .default({}),
    http: z
      .object({
        action: z.enum(['abort', 'delay', 'reset']),
        status: z.number().int().min(100).max(599).optional(),
        delayMs: ms.optional(),
        path: z.string().startsWith('/').max(512).optional(),
        method: z
          .string()
          .regex(/^[A-Za-z]{1,16}$/)
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ProxyConfig = z.infer<typeof proxyConfigSchema>;

/** The firewall the diverted connections must pass: its table and input chain, and who it admits to the port. */
export const proxyFirewallSchema = z.object({
  table: z.string().regex(NFT_TABLE),
  chain: z.string().regex(NFT_CHAIN),
  /** Source expressions (an address, a prefix or a set of them) the firewall admits to the port; ['any'] for anyone. */
  sources: z.array(z.string().regex(/^(any|(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?|\{ (\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?(, (\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?)* \})$/)),
});
export type ProxyFirewall = z.infer<typeof proxyFirewallSchema>;

/** What one server's diversion is: the port, where the proxy listens, and whose traffic is diverted. */
export const diversionSchema = z.object({
  table: z.string().regex(TABLE),
  port: z.number().int().min(1).max(65535),
  // 47000–47999 in records of the first version, still reverted.
  proxyPort: z.number().int().min(47000).max(PROXY_PORTS.to),
  /** Only connections from these addresses are diverted (empty: from anyone, and the server's own local traffic too). */
  peers: z.array(z.string().regex(IPV4)).default([]),
  /** The firewall to open for diverted connections; null: the server has none (or none faultline knows). */
  firewall: proxyFirewallSchema.nullable().optional(),
});
export type Diversion = z.infer<typeof diversionSchema>;

/**
 * The nftables table that diverts `port` to the proxy: connections arriving from outside (prerouting), and local ones
 * to 127.0.0.1 (output) except the proxy's own (its uid). One statement per line (bookworm's nft 1.0.6). Pure.
 */
export function redirectRuleset(d: Diversion): string {
  const v = diversionSchema.parse(d);
  const from = v.peers.length ? `ip saddr { ${v.peers.join(', ')} } ` : '';
  const chains = [`  chain fl_pre { type nat hook prerouting priority dstnat; policy accept; ${from}tcp dport ${v.port} redirect to :${v.proxyPort}; }`];
  if (!v.peers.length)
    chains.push(
      `  chain fl_out { type nat hook output priority -100; policy accept; meta skuid != ${PROXY_UID} ip daddr 127.0.0.1 tcp dport ${v.port} redirect to :${v.proxyPort}; }`,
    );
  return [`table inet ${v.table} {`, ...chains, '}'].join('\n');
}

/**
 * Rules for the server's firewall: a diverted connection arrives for the proxy's port, which the firewall does not
 * know; it is admitted exactly from the sources the firewall admits to the real port, and only when it was diverted
 * from that port (conntrack remembers the original destination). Each carries the fault's comment for the undo. Pure.
 */
export function firewallRules(d: Diversion, faultId: string): string[] {
  if (!d.firewall) return [];
  const id = checked(faultId, FAULT_ID, 'a fault id');
  const fw = proxyFirewallSchema.parse(d.firewall);
  const peers = d.peers.length ? d.peers : undefined;
  return fw.sources.map((s) => {
    const from = s === 'any' ? (peers ? `ip saddr { ${peers.join(', ')} } ` : '') : `ip saddr ${s} `;
    return `insert rule ${fw.table} ${fw.chain} ${from}tcp dport ${d.proxyPort} ct status dnat ct original proto-dst ${d.port} accept comment "faultline-${id}"`;
  });
}

/** Shell that applies the diversion: the firewall's admissions first, then the redirect (one nft transaction). Pure. */
export function applyScript(d: Diversion, faultId: string): string {
  const text = [...firewallRules(d, faultId), redirectRuleset(d)].join('\n');
  return `printf '%s\\n' '${text.replace(/'/g, `'\\''`)}' | nft -f -`;
}

/**
 * Shell that undoes it, redirect first (new connections reach the real service again), then the firewall's rules
 * of this fault (found by their comment). Idempotent; always succeeds. Pure.
 */
export function undoScript(d: Diversion, faultId: string): string {
  const id = checked(faultId, FAULT_ID, 'a fault id');
  const table = checked(d.table, TABLE, 'a table name');
  const parts = [`nft delete table inet ${table} 2>/dev/null`];
  if (d.firewall) {
    const fw = proxyFirewallSchema.parse(d.firewall);
    parts.push(
      `for h in $(nft -a list chain ${fw.table} ${fw.chain} 2>/dev/null | sed -n 's/.*comment "faultline-${id}" # handle \\([0-9]*\\)$/\\1/p'); do nft delete rule ${fw.table} ${fw.chain} handle $h; done`,
    );
  }
  return `${parts.join('; ')}; true`;
}

/** Shell that prints something while any part of the diversion is in place. Pure. */
export function probeScript(d: Diversion, faultId: string): string {
  const id = checked(faultId, FAULT_ID, 'a fault id');
  const table = checked(d.table, TABLE, 'a table name');
  const fw = d.firewall ? proxyFirewallSchema.parse(d.firewall) : undefined;
  return [
    `nft list table inet ${table} 2>/dev/null | head -1`,
    ...(fw ? [`nft list chain ${fw.table} ${fw.chain} 2>/dev/null | grep -F 'faultline-${id}'`] : []),
    'true',
  ].join('; ');
}

/**
 * Who a firewall admits to `port`, from its `nft list table` text: the sources of each rule that is only an optional
 * `ip saddr …`, `tcp dport` naming the port (alone or in a set) and `accept`. A rule of another shape (an interface,
 * a mark) is not read into an admission: the proxy then admits fewer, never more. Pure.
 */
export function admittedSources(listing: string, port: number): string[] {
  const out = new Set<string>();
  for (const raw of listing.split('\n')) {
    const line = raw.trim().replace(/\s+comment ".*"$/, '');
    const m = /^(?:ip saddr (\S+|\{[^}]*\}) )?tcp dport (\d+|\{[^}]*\}) accept$/.exec(line);
    if (!m) continue;
    const ports = (m[2] ?? '')
      .replace(/[{}]/g, '')
      .split(',')
      .map((p) => Number(p.trim()));
    if (!ports.includes(port)) continue;
    const source = m[1] === undefined ? 'any' : m[1].replace(/\s+/g, ' ');
    if (source === 'any' || proxyFirewallSchema.shape.sources.element.safeParse(source).success) out.add(source);
  }
  return out.has('any') ? ['any'] : [...out].sort();
}

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new FaultlineError('INTERNAL', `fault proxy: ${JSON.stringify(value)} is not ${what}`);
  return value;
}

/**
 * Shell that moves connections established before the fault onto the proxy: NAT is decided on a connection's first
 * packet, so a pooled keep-alive connection (HAProxy → web, the app's pool → MariaDB) would bypass the redirect for
 * ever. Forgetting their conntrack entries (those whose reply still comes from the real port, so none the redirect
 * made) makes their next packet take the redirect, which the proxy answers with a reset: the client reconnects, through
 * the proxy. The proxy's own connections to the service are left out of the redirect by their uid, so they survive. Pure.
 */
export function moveEstablished(d: Diversion): string {
  const v = diversionSchema.parse(d);
  const base = `conntrack -D -p tcp --orig-port-dst ${v.port} --reply-port-src ${v.port}`;
  const froms = v.peers.length ? v.peers.map((p) => ` --orig-src ${p.replace(/\/32$/, '')}`) : [''];
  return froms.map((f) => `${base}${f} >/dev/null 2>&1`).join('; ') + '; true';
}

/** The helper's script: start the proxy, wait until it listens, divert, say so, hold, undo; TERM undoes at once. Pure. */
export function helperScript(d: Diversion, faultId: string, seconds: number, readyLine: string): string {
  const undo = undoScript(d, faultId);
  return [
    `undo() { ${undo}; kill $p 2>/dev/null; }`,
    'p=',
    "trap 'undo; exit 0' TERM INT",
    'node /srv/proxy/proxy.mjs > /tmp/proxy.out 2>&1 & p=$!',
    'i=0',
    "until grep -q '^listening' /tmp/proxy.out; do",
    '  i=$((i+1)); if [ $i -gt 400 ] || ! kill -0 $p 2>/dev/null; then cat /tmp/proxy.out >&2; kill $p 2>/dev/null; exit 1; fi; sleep 0.05',
    'done',
    `if ! ( set -e; ${applyScript(d, faultId)} ); then undo; exit 1; fi`,
    moveEstablished(d),
    `echo ${readyLine}`,
    // The dead man's switch: after the run's maximum duration the redirect goes first, then the proxy.
    `sleep ${Math.max(1, Math.floor(seconds))} & wait $!`,
    'undo',
  ].join('\n');
}
