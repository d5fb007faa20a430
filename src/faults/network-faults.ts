// Network faults: tc netem (latency with jitter) or an nftables table (loss, partition) in the target server's
// network namespace. The change is made by exec in the server's host container (which owns the namespace and
// has NET_ADMIN): one round trip, like the firewall faults. Beside it runs a helper container, Pumba-style,
// from the stack's host image in the same namespace: it only waits, and undoes the change when the run's
// maximum duration has passed, a dead man's switch for a faultline that was killed and never reverted.
// Revert removes the qdisc/table, checks none is left, and removes the helper.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { durationMs, percent } from './params.js';
import { execOk, removeFaultHelpers, startHelper, throwFirstRejection } from './helpers.js';
import { assertStackContainer, assertStackLabels, resolveServers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan, FaultRecord } from './types.js';

/**
 * The root qdisc handle faultline adds netem under. Revert and the dead man's switch delete only a root
 * qdisc with this handle, so a qdisc that was there before (a stack faultline did not start) is never touched.
 */
export const NETEM_HANDLE = 'fa17:';

const TABLE = /^fl_[a-z0-9]{1,24}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/**
 * What a network fault does, as validated fields: the shell that applies, reverts and probes it is built
 * from these every time, never read back from the state file (which anyone with access can edit).
 */
const effectSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('netem'), delayMs: z.number().int().min(1).max(60_000), jitterMs: z.number().int().min(0).max(60_000) }),
  z.object({ kind: z.literal('loss'), table: z.string().regex(TABLE), percent: z.number().min(0).max(100) }),
  z.object({ kind: z.literal('partition'), table: z.string().regex(TABLE), peers: z.array(z.string().regex(IPV4)).min(1) }),
]);
export type NetEffect = z.infer<typeof effectSchema>;

/** Records written before the effect was recorded as fields carried shell text; only its table name is kept. */
const legacyServer = z
  .object({ hostId: z.string(), server: z.string(), apply: z.string(), revert: z.string(), probe: z.string(), helperId: z.string().optional() })
  .transform((s, ctx) => {
    const table = /nft delete table inet (fl_[a-z0-9]{1,24})\b/.exec(s.revert)?.[1];
    const netem = /tc qdisc del dev \$i root/.test(s.revert);
    if (!table && !netem) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'an older network record of unknown shape' });
      return z.NEVER;
    }
    const effect: NetEffect | { kind: 'legacy-netem' } = table ? { kind: 'partition', table, peers: ['0.0.0.0'] } : { kind: 'legacy-netem' };
    return { hostId: s.hostId, server: s.server, effect, ...(s.helperId ? { helperId: s.helperId } : {}) };
  });

const serverSchema = z.object({
  // A container id, or a swarm task's `<container id>@<node>` (its node's engine is the one to act through).
  hostId: z.string().regex(/^[0-9a-f]{12,64}(@[A-Za-z0-9][A-Za-z0-9_.-]*)?$/, 'a container id'),
  server: z.string(),
  effect: effectSchema,
  helperId: z.string().optional(),
});

const dataSchema = z.object({
  servers: z.array(z.union([serverSchema, legacyServer])),
});
type NetData = { servers: Array<{ hostId: string; server: string; effect: NetEffect | { kind: 'legacy-netem' }; helperId?: string | undefined }> };
type ServerPlan = NetData['servers'][number];

interface Scripts {
  apply: string;
  revert: string;
  /** Prints something non-empty while the fault is in place. */
  probe: string;
}

// Every interface but loopback: on the LB that is both the edge and the internal network.
const IFACES = `$(ls /sys/class/net | grep -vx lo)`;

/** Shell snippets for a netem qdisc under faultline's own handle on every interface. Pure. */
export function netemScripts(netem: string): Scripts {
  return {
    // `add`, not `replace`: a second netem fault, or a root qdisc the user had, makes it fail, not be taken over.
    // The error names what is missing rather than tc's "Specified qdisc kind is unknown".
    apply: `for i in ${IFACES}; do tc qdisc add dev $i root handle ${NETEM_HANDLE} netem ${netem} 2>/tmp/tc.err || { grep -q 'kind is unknown' /tmp/tc.err && echo 'this kernel has no netem (CONFIG_NET_SCH_NETEM is not set)' >&2; grep -qE 'Exclusivity flag|NLM_F_REPLACE' /tmp/tc.err && echo "$i already has a root qdisc that is not faultline's" >&2; cat /tmp/tc.err >&2; exit 3; }; done`,
    // Only a root qdisc with our handle: tc refuses to delete one whose handle differs.
    revert: `for i in ${IFACES}; do tc qdisc show dev $i root | grep -q '^qdisc netem ${NETEM_HANDLE} ' && tc qdisc del dev $i root handle ${NETEM_HANDLE} 2>/dev/null; done; true`,
    probe: `tc qdisc show | grep '^qdisc netem ${NETEM_HANDLE} ' || true`,
  };
}

/**
 * Shell snippets for packet loss with nftables (numgen), which needs no netem: some kernels (this project's
 * CI VMs among them) are built without CONFIG_NET_SCH_NETEM. Pure.
 */
export function lossScripts(table: string, percent: number): Scripts {
  // Hundredths of a percent; nft refuses a bound equal to the modulus, so 100% is a plain drop.
  const match = percent >= 100 ? '' : `numgen random mod 10000 < ${Math.round(percent * 100)} `;
  // One statement per line: nft 1.0.6 (bookworm) rejects `… drop; } }` closed on the same line.
  return nftTableScripts(table, [`  chain fl_out { type filter hook output priority -10; policy accept; oifname != "lo" ${match}drop; }`]);
}

/** Shell snippets for a partition: an nftables table dropping traffic to and from the other side. Pure. */
export function partitionScripts(table: string, peers: string[]): Scripts {
  const set = `{ ${peers.join(', ')} }`;
  // Priority -10 runs before the server's own firewall, so even established connections are cut.
  return nftTableScripts(table, [
    `  chain fl_in { type filter hook input priority -10; policy accept; ip saddr ${set} drop; }`,
    `  chain fl_out { type filter hook output priority -10; policy accept; ip daddr ${set} drop; }`,
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
function netemArgs(delayMs: number, jitterMs: number): string {
  return `delay ${delayMs}ms ${jitterMs}ms${jitterMs > 0 ? ' distribution normal' : ''}`;
}

/** The shell for an effect, rebuilt from its validated fields (re-checked here: the last line of defence). Pure. */
export function scriptsFor(effect: NetEffect | { kind: 'legacy-netem' }): Scripts {
  const checked = effect.kind === 'legacy-netem' ? effect : effectSchema.parse(effect);
  switch (checked.kind) {
    case 'netem':
      return netemScripts(netemArgs(checked.delayMs, checked.jitterMs));
    case 'loss':
      return lossScripts(checked.table, checked.percent);
    case 'partition':
      return partitionScripts(checked.table, checked.peers);
    case 'legacy-netem':
      // Written before faultline used its own handle: only a root netem qdisc is removed, nothing else.
      return {
        apply: 'false',
        revert: `for i in ${IFACES}; do tc qdisc show dev $i root | grep -q '^qdisc netem ' && tc qdisc del dev $i root 2>/dev/null; done; true`,
        probe: `tc qdisc show | grep '^qdisc netem ' || true`,
      };
  }
}

async function applyNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<void> {
  const helpers: Record<string, string> = {};
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      await assertStackContainer(ctx, s.hostId);
      const scripts = scriptsFor(s.effect);
      // The change first, then its dead man's switch: the effect does not wait for a container to start (nor
      // share the Docker engine with one starting). The record already exists, so `revert` covers the gap.
      // The exec runs to its end even on Ctrl-C (tc/nft would go on in the container), then it is reverted.
      await execOk(ctx, s.hostId, ['sh', '-c', `set -e\n${scripts.apply}`], { what: `${record.fault} on ${s.server}`, toEnd: true });
      signal.throwIfAborted();
      helpers[s.hostId] = await startHelper(
        ctx,
        { faultId: record.id, hostId: s.hostId, apply: '', revert: scripts.revert },
        async (helperId) => {
          helpers[s.hostId] = helperId;
        },
        signal,
      );
    }),
  );
  // Settled, not raced: a helper still starting when another server failed must be recorded for the revert.
  await ctx.store.update(record.id, {
    data: { servers: record.data.servers.map((s) => ({ ...s, ...(helpers[s.hostId] ? { helperId: helpers[s.hostId] } : {}) })) },
  });
  throwFirstRejection(outcomes);
}

async function revertNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<void> {
  // Undo in the namespace directly (the host container owns it) rather than trusting the helper's trap,
  // then prove nothing is left, then remove the helpers.
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      // Only a 404 means gone (with its namespace and the change); any other Docker error fails the revert.
      const info = await ctx.docker.findContainer(s.hostId);
      if (!info?.running) return;
      assertStackLabels(ctx, info);
      const scripts = scriptsFor(s.effect);
      const res = await execOk(ctx, s.hostId, ['sh', '-c', `${scripts.revert}; ${scripts.probe}`], {
        signal,
        what: `reverting ${record.fault} on ${s.server}`,
      });
      if (res.stdout.trim()) throw new FaultlineError('REVERT_FAILED', `${s.server}: still in place after revert: ${res.stdout.trim()}`);
    }),
  );
  throwFirstRejection(outcomes);
  await removeFaultHelpers(
    ctx,
    record.id,
    record.data.servers.map((s) => s.helperId).filter((x): x is string => Boolean(x)),
  );
}

async function checkNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<FaultCheck> {
  const found = await Promise.all(
    record.data.servers.map(
      async (s) => (await ctx.docker.exec(s.hostId, ['sh', '-c', scriptsFor(s.effect).probe], { signal }).catch(() => undefined))?.stdout.trim() ?? '',
    ),
  );
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
    data: dataSchema as unknown as z.ZodType<NetData, z.ZodTypeDef, unknown>,
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

async function netemServers(ctx: FaultContext, target: string, delayMs: number, jitterMs: number) {
  if (!target) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary)');
  const hosts = await resolveServers(ctx, target);
  const effect: NetEffect = { kind: 'netem', delayMs, jitterMs };
  const servers = hosts.map((h) => ({ hostId: h.id, server: h.server ?? h.name, effect }));
  return { servers, targets: hosts.map(toRef), step: `tc qdisc add dev <each interface> root handle ${NETEM_HANDLE} netem ${netemArgs(delayMs, jitterMs)}` };
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
  const [a, b] = await Promise.all([
    resolveServers(ctx, p.from.includes(':') ? p.from : `all:${p.from}`),
    resolveServers(ctx, p.to.includes(':') ? p.to : `all:${p.to}`),
  ]);
  const overlap = a.filter((h) => b.some((x) => x.id === h.id));
  if (overlap.length) throw new FaultlineError('INVALID_INPUT', `to: ${overlap.map((h) => h.server).join(', ')} is on both sides of the partition`);
  // Every address a server has (the internal network's and any other, e.g. the LB's edge address): cutting
  // only one would leave the other path open while the fault reports itself in effect.
  const addrs = (h: (typeof a)[number]) => {
    const ips = [...new Set(Object.values(h.addresses).filter((ip) => IPV4.test(ip)))].sort();
    if (!ips.length) throw new FaultlineError('UNKNOWN_TARGET', `${h.server} has no IPv4 address to cut`);
    return ips;
  };
  const addr = (h: (typeof a)[number]) => addrs(h).join(', ');
  // Cutting on the smaller side is enough (it drops both directions) and needs fewer helpers.
  const [cut, other] = a.length <= b.length ? [a, b] : [b, a];
  const peers = [...new Set(other.flatMap(addrs))];
  const effect: NetEffect = { kind: 'partition', table: tag, peers };
  const servers = cut.map((h) => ({ hostId: h.id, server: h.server ?? h.name, effect }));
  return {
    servers,
    targets: [...a, ...b].map(toRef),
    step: `on ${cut.map((h) => h.server).join(', ')}: drop everything to and from ${other.map((h) => `${h.server} (${addr(h)})`).join(', ')} (nft table inet ${tag})`,
  };
}

export const networkFaults = [
  netFault('net-latency', 'add latency with jitter to everything a server sends (tc netem)', undefined, latencyParams, (ctx, target, p) =>
    netemServers(ctx, target, p.delay, p.jitter),
  ),
  netFault('net-loss', 'drop a share of the packets a server sends (nftables numgen, no netem needed)', undefined, lossParams, async (ctx, target, p, tag) => {
    if (!target) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary)');
    const hosts = await resolveServers(ctx, target);
    const effect: NetEffect = { kind: 'loss', table: tag, percent: p.loss };
    const servers = hosts.map((h) => ({ hostId: h.id, server: h.server ?? h.name, effect }));
    return { servers, targets: hosts.map(toRef), step: `drop ${p.loss}% of outgoing packets at random (nft table inet ${tag})` };
  }),
  netFault(
    'net-partition',
    'cut all traffic between two groups of servers (e.g. --from role=web --to server=db-primary)',
    undefined,
    partitionParams,
    partitionServers,
  ),
];
