// Network faults: tc netem (latency with jitter) or an nftables table (loss, partition) in the target server's
// network namespace. The change is made by exec in the server's host container (which owns the namespace and
// has NET_ADMIN): one round trip, like the firewall faults. Beside it runs a helper container, Pumba-style,
// from the stack's host image in the same namespace: it only waits, and undoes the change when the run's
// maximum duration has passed, a dead man's switch for a faultline that was killed and never reverted.
// Revert removes the qdisc/table, checks none is left, and removes the helper.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { durationMs, percent } from './params.js';
import { execOk, removeFaultHelpers, startHelper } from './helpers.js';
import { assertStackContainer, assertStackLabels, resolveServers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan, FaultRecord } from './types.js';

const dataSchema = z.object({
  servers: z.array(
    z.object({
      hostId: z.string(),
      server: z.string(),
      apply: z.string(),
      revert: z.string(),
      /** Prints something non-empty while the fault is in place. */
      probe: z.string(),
      helperId: z.string().optional(),
    }),
  ),
});
type NetData = z.infer<typeof dataSchema>;
type ServerPlan = NetData['servers'][number];

// Every interface but loopback: on the LB that is both the edge and the internal network.
const IFACES = `$(ls /sys/class/net | grep -vx lo)`;

/** Shell snippets for a netem qdisc on every interface. Pure. */
export function netemScripts(netem: string): Pick<ServerPlan, 'apply' | 'revert' | 'probe'> {
  return {
    // `add`, not `replace`: a second netem fault on the same server must fail, not silently take over.
    // The error names what is missing rather than tc's "Specified qdisc kind is unknown".
    apply: `for i in ${IFACES}; do tc qdisc add dev $i root netem ${netem} 2>/tmp/tc.err || { grep -q 'kind is unknown' /tmp/tc.err && echo 'this kernel has no netem (CONFIG_NET_SCH_NETEM is not set)' >&2; cat /tmp/tc.err >&2; exit 3; }; done`,
    revert: `for i in ${IFACES}; do tc qdisc del dev $i root 2>/dev/null || true; done`,
    probe: `tc qdisc show | grep netem || true`,
  };
}

/**
 * Shell snippets for packet loss with nftables (numgen), which needs no netem: some kernels (this project's
 * CI VMs among them) are built without CONFIG_NET_SCH_NETEM. Pure.
 */
export function lossScripts(table: string, percent: number): Pick<ServerPlan, 'apply' | 'revert' | 'probe'> {
  // Hundredths of a percent; nft refuses a bound equal to the modulus, so 100% is a plain drop.
  const match = percent >= 100 ? '' : `numgen random mod 10000 < ${Math.round(percent * 100)} `;
  // One statement per line: nft 1.0.6 (bookworm) rejects `… drop; } }` closed on the same line.
  return nftTableScripts(table, [`  chain fl_out { type filter hook output priority -10; policy accept; oifname != "lo" ${match}drop; }`]);
}

/** Shell snippets for a partition: an nftables table dropping traffic to and from the other side. Pure. */
export function partitionScripts(table: string, peers: string[]): Pick<ServerPlan, 'apply' | 'revert' | 'probe'> {
  const set = `{ ${peers.join(', ')} }`;
  // Priority -10 runs before the server's own firewall, so even established connections are cut.
  return nftTableScripts(table, [
    `  chain fl_in { type filter hook input priority -10; policy accept; ip saddr ${set} drop; }`,
    `  chain fl_out { type filter hook output priority -10; policy accept; ip daddr ${set} drop; }`,
  ]);
}

/** Apply, revert and probe for a table of faultline's own holding these chains (one per line). Pure. */
function nftTableScripts(table: string, chains: string[]): Pick<ServerPlan, 'apply' | 'revert' | 'probe'> {
  const ruleset = [`table inet ${table} {`, ...chains, `}`].join('\n');
  return {
    apply: `printf '%s\\n' '${ruleset}' | nft -f -`,
    revert: `nft delete table inet ${table} 2>/dev/null || true`,
    probe: `nft list table inet ${table} 2>/dev/null | head -1 || true`,
  };
}

async function applyNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<void> {
  const helpers: Record<string, string> = {};
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      await assertStackContainer(ctx, s.hostId);
      // The change first, then its dead man's switch: the effect does not wait for a container to start (nor
      // share the Docker engine with one starting). The record already exists, so `revert` covers the gap.
      await execOk(ctx, s.hostId, ['sh', '-c', `set -e\n${s.apply}`], { signal, what: `${record.fault} on ${s.server}` });
      helpers[s.hostId] = await startHelper(
        ctx,
        { faultId: record.id, hostId: s.hostId, apply: '', revert: s.revert },
        async (helperId) => {
          helpers[s.hostId] = helperId;
        },
        signal,
      );
    }),
  );
  // Settled, not raced: a helper still starting when another server failed must be recorded for the revert.
  await ctx.store.update(record.id, { data: { servers: record.data.servers.map((s) => ({ ...s, ...(helpers[s.hostId] ? { helperId: helpers[s.hostId] } : {}) })) } });
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}

async function revertNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<void> {
  // Undo in the namespace directly (the host container owns it) rather than trusting the helper's trap,
  // then prove nothing is left, then remove the helpers.
  await Promise.all(
    record.data.servers.map(async (s) => {
      const info = await ctx.docker.inspect(s.hostId).catch(() => undefined);
      if (!info?.State.Running) return;
      assertStackLabels(ctx, info);
      const res = await execOk(ctx, s.hostId, ['sh', '-c', `${s.revert}; ${s.probe}`], { signal, what: `reverting ${record.fault} on ${s.server}` });
      if (res.stdout.trim()) throw new FaultlineError('REVERT_FAILED', `${s.server}: still in place after revert: ${res.stdout.trim()}`);
    }),
  );
  await removeFaultHelpers(ctx, record.id, record.data.servers.map((s) => s.helperId).filter((x): x is string => Boolean(x)));
}

async function checkNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<FaultCheck> {
  const found = await Promise.all(record.data.servers.map(async (s) => (await ctx.docker.exec(s.hostId, ['sh', '-c', s.probe], { signal }).catch(() => undefined))?.stdout.trim() ?? ''));
  const n = found.filter(Boolean).length;
  return { active: n === found.length, detail: `${n}/${found.length} servers affected` };
}

function netFault<P>(
  name: string,
  description: string,
  defaultTarget: string | undefined,
  params: z.ZodType<P, z.ZodTypeDef, unknown>,
  planServers: (ctx: FaultContext, target: string, p: P, faultTag: string) => Promise<{ servers: ServerPlan[]; targets: FaultPlan['targets']; step: string }>,
): FaultDefinition<P, NetData> {
  return {
    name,
    kind: 'network',
    description,
    defaultTarget,
    params,
    data: dataSchema,
    async plan(ctx, target, p) {
      const tag = `fl_${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
      const { servers, targets, step } = await planServers(ctx, target ?? defaultTarget ?? '', p, tag);
      return {
        targets,
        steps: [
          `start a helper (host image, NET_ADMIN) in the network namespace of ${servers.map((s) => s.server).join(', ')}`,
          step,
          'revert: undo in the namespace, check nothing is left, remove the helpers',
        ],
        slots: servers.map((s) => `${s.server}:${name === 'net-latency' ? 'netem' : name}`),
        data: { servers },
      };
    },
    apply: (ctx, record, _u, signal) => applyNet(ctx, record, signal),
    revert: (ctx, record, signal) => revertNet(ctx, record, signal),
    check: (ctx, record, signal) => checkNet(ctx, record, signal),
  };
}

async function netemServers(ctx: FaultContext, target: string, netem: string) {
  if (!target) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary)');
  const hosts = await resolveServers(ctx, target);
  const servers = hosts.map((h) => ({ hostId: h.id, server: h.server ?? h.name, ...netemScripts(netem) }));
  return { servers, targets: hosts.map(toRef), step: `tc qdisc add dev <each interface> root netem ${netem}` };
}

const latencyParams = z
  .object({
    delay: durationMs({ min: 1, max: 60_000 }).default('100ms'),
    jitter: durationMs({ max: 60_000 }).default('10ms'),
  })
  .strict();

const lossParams = z.object({ loss: percent().default(30) }).strict();

const partitionParams = z
  .object({
    from: z.string({ required_error: 'required: one side, e.g. role=web' }).min(1).describe('(one side: target expression)'),
    to: z.string({ required_error: 'required: the other side, e.g. server=db-primary' }).min(1).describe('(other side)'),
  })
  .strict();

async function partitionServers(ctx: FaultContext, _target: string, p: z.infer<typeof partitionParams>, tag: string) {
  const [a, b] = await Promise.all([resolveServers(ctx, p.from.includes(':') ? p.from : `all:${p.from}`), resolveServers(ctx, p.to.includes(':') ? p.to : `all:${p.to}`)]);
  const overlap = a.filter((h) => b.some((x) => x.id === h.id));
  if (overlap.length) throw new FaultlineError('INVALID_INPUT', `to: ${overlap.map((h) => h.server).join(', ')} is on both sides of the partition`);
  const addr = (h: (typeof a)[number]) => {
    const ip = h.addresses[ctx.stack.internalNetwork] ?? Object.values(h.addresses)[0];
    if (!ip) throw new FaultlineError('UNKNOWN_TARGET', `${h.server} has no internal address`);
    return ip;
  };
  // Cutting on the smaller side is enough (it drops both directions) and needs fewer helpers.
  const [cut, other] = a.length <= b.length ? [a, b] : [b, a];
  const peers = other.map(addr);
  const servers = cut.map((h) => ({ hostId: h.id, server: h.server ?? h.name, ...partitionScripts(tag, peers) }));
  return {
    servers,
    targets: [...a, ...b].map(toRef),
    step: `on ${cut.map((h) => h.server).join(', ')}: drop everything to and from ${other.map((h) => `${h.server} (${addr(h)})`).join(', ')} (nft table inet ${tag})`,
  };
}

export const networkFaults = [
  netFault('net-latency', 'add latency with jitter to everything a server sends (tc netem)', undefined, latencyParams, (ctx, target, p) =>
    netemServers(ctx, target, `delay ${p.delay}ms ${p.jitter}ms${p.jitter > 0 ? ' distribution normal' : ''}`),
  ),
  netFault('net-loss', 'drop a share of the packets a server sends (nftables numgen, no netem needed)', undefined, lossParams, async (ctx, target, p, tag) => {
    if (!target) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary)');
    const hosts = await resolveServers(ctx, target);
    const servers = hosts.map((h) => ({ hostId: h.id, server: h.server ?? h.name, ...lossScripts(tag, p.loss) }));
    return { servers, targets: hosts.map(toRef), step: `drop ${p.loss}% of outgoing packets at random (nft table inet ${tag})` };
  }),
  netFault('net-partition', 'cut all traffic between two groups of servers (e.g. --from role=web --to server=db-primary)', undefined, partitionParams, partitionServers),
];
