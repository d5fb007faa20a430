// Network faults: tc netem (latency with jitter) or an nftables table (loss, partition) in the target server's
// network namespace. The change is made by exec in the server's host container (which owns the namespace and
// has NET_ADMIN): one round trip, like the firewall faults. Beside it runs a helper container, Pumba-style,
// from the stack's host image in the same namespace: it only waits, and undoes the change when the run's
// maximum duration has passed, a dead man's switch for a faultline that was killed and never reverted.
// Revert removes the qdisc/table, checks none is left, and removes the helper. Each fault may be narrowed to peers
// (`peer=`, their addresses) and a TCP port (`port=`); net-latency on a kernel without netem goes through the fault
// proxy (proxy-helper.ts) when it names a port, and is refused in one line when it does not.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { durationMs, integer, percent } from './params.js';
import { execOk, removeFaultHelpers, startHelper, throwFirstRejection } from './helpers.js';
import { effectSchema, NETEM_HANDLE, netemArgs, scriptsFor, type NetEffect } from './network-scripts.js';
import { resolvePeers, serverAddresses } from './net-peers.js';
import { PROXY_UID, type ProxyConfig } from './proxy-config.js';
import { drawProxyPort, proxyActive, readFirewall, startProxy, undoProxy, type ProxyServer } from './proxy-helper.js';
import { assertStackContainer, assertStackLabels, resolveServers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan, FaultRecord } from './types.js';

export { lossScripts, NETEM_HANDLE, netemScripts, partitionScripts, scriptsFor, type NetEffect } from './network-scripts.js';

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

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

/** The proxy's configuration for net-latency without netem: what the server sends on the port, delayed. */
function latencyConfig(delayMs: number, jitterMs: number): ProxyConfig {
  return { listen: 1, upstreamPort: 1, mode: 'tcp', ratio: 1, uid: PROXY_UID, toxics: { down: { latency: { ms: delayMs, jitter: jitterMs } } } };
}

const NO_NETEM = /this kernel has no netem/;

/**
 * One server's change. net-latency on a kernel without netem goes through the fault proxy when the fault names a port
 * (the record then says `proxy`), and is refused in one line when it does not: without a port nothing can intercept
 * everything a server sends.
 */
async function applyServer(ctx: FaultContext, record: FaultRecord<NetData>, s: ServerPlan, save: () => Promise<void>, signal: AbortSignal): Promise<void> {
  await assertStackContainer(ctx, s.hostId);
  const effect = s.effect;
  if (effect.kind === 'proxy') throw new FaultlineError('INTERNAL', `${record.fault}: a proxy effect is only ever chosen while applying`);
  const scripts = scriptsFor(effect);
  // The change first, then its dead man's switch: the effect does not wait for a container to start (nor
  // share the Docker engine with one starting). The record already exists, so `revert` covers the gap.
  // The exec runs to its end even on Ctrl-C (tc/nft would go on in the container), then it is reverted.
  try {
    await execOk(ctx, s.hostId, ['sh', '-c', `set -e\n${scripts.apply}`], { what: `${record.fault} on ${s.server}`, toEnd: true });
  } catch (err) {
    if (effect.kind !== 'netem' || !NO_NETEM.test((err as Error).message)) throw err;
    if (!effect.fallback) {
      throw new FaultlineError(
        'INVALID_INPUT',
        `${record.fault}: this kernel has no netem; give --param port=<port> to delay one port through the fault proxy`,
      );
    }
    await execOk(ctx, s.hostId, ['sh', '-c', scripts.revert], { what: `clearing a partial netem on ${s.server}`, toEnd: true });
    const diversion = { ...effect.fallback, firewall: await readFirewall(ctx, s.hostId, effect.fallback.port, signal) };
    s.effect = { kind: 'proxy', delayMs: effect.delayMs, jitterMs: effect.jitterMs, diversion };
    await save();
    ctx.log(`${record.fault} on ${s.server}: this kernel has no netem; tcp/${diversion.port} is delayed by the fault proxy instead`);
    const proxy: ProxyServer = { hostId: s.hostId, server: s.server, diversion };
    await startProxy(
      ctx,
      record.id,
      proxy,
      latencyConfig(effect.delayMs, effect.jitterMs),
      async (id) => {
        s.helperId = id;
        await save();
      },
      signal,
    );
    return;
  }
  signal.throwIfAborted();
  await startHelper(
    ctx,
    { faultId: record.id, hostId: s.hostId, apply: '', revert: scripts.revert },
    async (helperId) => {
      s.helperId = helperId;
      await save();
    },
    signal,
  );
}

async function applyNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<void> {
  const servers = record.data.servers.map((s) => ({ ...s }));
  const save = async () => {
    await ctx.store.update(record.id, { data: { servers } });
  };
  // Settled, not raced: a helper still starting when another server failed must be recorded for the revert.
  const outcomes = await Promise.allSettled(servers.map((s) => applyServer(ctx, record, s, save, signal)));
  await save();
  throwFirstRejection(outcomes);
}

async function revertNet(ctx: FaultContext, record: FaultRecord<NetData>, signal: AbortSignal): Promise<void> {
  // Undo in the namespace directly (the host container owns it) rather than trusting the helper's trap,
  // then prove nothing is left, then remove the helpers.
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      if (s.effect.kind === 'proxy')
        return undoProxy(ctx, record.id, { hostId: s.hostId, server: s.server, diversion: s.effect.diversion, helperId: s.helperId }, signal);
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
    record.data.servers.map(async (s) => {
      const e = s.effect;
      if (e.kind === 'proxy') return proxyActive(ctx, record.id, { hostId: s.hostId, server: s.server, diversion: e.diversion, helperId: s.helperId }, signal);
      return Boolean((await ctx.docker.exec(s.hostId, ['sh', '-c', scriptsFor(e).probe], { signal }).catch(() => undefined))?.stdout.trim());
    }),
  );
  const n = found.filter(Boolean).length;
  const proxied = record.data.servers.find((s) => s.effect.kind === 'proxy')?.effect;
  const via = proxied?.kind === 'proxy' ? ` (through the fault proxy on tcp/${proxied.diversion.port}: this kernel has no netem)` : '';
  return { active: n === found.length, detail: `${n}/${found.length} servers affected${via}` };
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

/** What `peer=` and `port=` narrow a fault to, and how a step says it. */
async function narrowing(ctx: FaultContext, p: { peer?: string | undefined; port?: number | undefined }) {
  const peers = p.peer ? await resolvePeers(ctx, p.peer) : undefined;
  const words = [
    ...(peers ? [`with ${peers.servers.map((s) => `${s.server ?? s.name}`).join(', ')} (${peers.addresses.join(', ')})`] : []),
    ...(p.port ? [`tcp port ${p.port} only`] : []),
  ];
  return { peerAddrs: peers?.addresses, port: p.port, words: words.length ? `; ${words.join(', ')}` : '' };
}

const narrowParams = {
  peer: z.string().min(1).optional().describe('(only traffic with these servers, e.g. role=web)'),
  port: integer(1, 65535).optional().describe('(only tcp traffic of this port, either end)'),
};

async function netemServers(ctx: FaultContext, target: string, p: z.infer<typeof latencyParams>, tag: string) {
  if (!target) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary)');
  const hosts = await resolveServers(ctx, target);
  const n = await narrowing(ctx, p);
  const servers = hosts.map((h) => {
    const fallback = p.port ? { table: tag, port: p.port, proxyPort: drawProxyPort(ctx.random), peers: n.peerAddrs ?? [] } : undefined;
    const effect: NetEffect = {
      kind: 'netem',
      delayMs: p.delay,
      jitterMs: p.jitter,
      ...(n.peerAddrs ? { peerAddrs: n.peerAddrs } : {}),
      ...(p.port ? { port: p.port } : {}),
      ...(fallback ? { fallback } : {}),
    };
    return { hostId: h.id, server: h.server ?? h.name, effect };
  });
  const step = `tc qdisc add dev <each interface> root handle ${NETEM_HANDLE} netem ${netemArgs(p.delay, p.jitter)}${n.words}${
    p.port ? `; where the kernel has no netem, the fault proxy delays what tcp/${p.port} sends instead` : '; refused where the kernel has no netem'
  }`;
  return { servers, targets: hosts.map(toRef), step };
}

const latencyParams = z
  .object({
    delay: durationMs({ min: 1, max: 60_000 }).default('100ms'),
    jitter: durationMs({ max: 60_000 }).default('10ms'),
    ...narrowParams,
  })
  .strict();

const lossParams = z.object({ loss: percent().default(30), ...narrowParams }).strict();

const partitionParams = z
  .object({
    from: z.string({ required_error: 'required: one side, e.g. role=web' }).min(1).describe('(one side: target expression)'),
    to: z.string({ required_error: 'required: the other side, e.g. server=db-primary' }).min(1).describe('(other side: the peers)'),
    port: narrowParams.port,
  })
  .strict();

async function partitionServers(ctx: FaultContext, _target: string, p: z.infer<typeof partitionParams>, tag: string) {
  const { from, to } = p;
  const [a, b] = await Promise.all([resolveServers(ctx, from.includes(':') ? from : `all:${from}`), resolveServers(ctx, to.includes(':') ? to : `all:${to}`)]);
  const overlap = a.filter((h) => b.some((x) => x.id === h.id));
  if (overlap.length) throw new FaultlineError('INVALID_INPUT', `to: ${overlap.map((h) => h.server).join(', ')} is on both sides of the partition`);
  // Every address a server has (the internal network's and any other, e.g. the LB's edge address): cutting
  // only one would leave the other path open while the fault reports itself in effect.
  const addr = (h: (typeof a)[number]) => serverAddresses(h).join(', ');
  // Cutting on the smaller side is enough (it drops both directions) and needs fewer helpers.
  const [cut, other] = a.length <= b.length ? [a, b] : [b, a];
  const peers = [...new Set(other.flatMap(serverAddresses))].filter((ip) => IPV4.test(ip));
  const effect: NetEffect = { kind: 'partition', table: tag, peers, ...(p.port ? { port: p.port } : {}) };
  const servers = cut.map((h) => ({ hostId: h.id, server: h.server ?? h.name, effect }));
  return {
    servers,
    targets: [...a, ...b].map(toRef),
    step: `on ${cut.map((h) => h.server).join(', ')}: drop ${p.port ? `tcp port ${p.port}` : 'everything'} to and from ${other
      .map((h) => `${h.server} (${addr(h)})`)
      .join(', ')} (nft table inet ${tag})`,
  };
}

export const networkFaults = [
  netFault(
    'net-latency',
    'add latency with jitter to what a server sends (tc netem; without netem, the fault proxy on port=), optionally only with peer= or on port=',
    undefined,
    latencyParams,
    netemServers,
  ),
  netFault(
    'net-loss',
    'drop a share of the packets a server sends (nftables numgen, no netem needed), optionally only to peer= or of port=',
    undefined,
    lossParams,
    async (ctx, target, p, tag) => {
      if (!target) throw new FaultlineError('INVALID_INPUT', 'target: required (e.g. --target server=db-primary)');
      const hosts = await resolveServers(ctx, target);
      const n = await narrowing(ctx, p);
      const effect: NetEffect = {
        kind: 'loss',
        table: tag,
        percent: p.loss,
        ...(n.peerAddrs ? { peerAddrs: n.peerAddrs } : {}),
        ...(p.port ? { port: p.port } : {}),
      };
      const servers = hosts.map((h) => ({ hostId: h.id, server: h.server ?? h.name, effect }));
      return { servers, targets: hosts.map(toRef), step: `drop ${p.loss}% of outgoing packets at random${n.words} (nft table inet ${tag})` };
    },
  ),
  netFault(
    'net-partition',
    'cut all traffic between two groups of servers (e.g. --from role=web --to server=db-primary), optionally of one port=',
    undefined,
    partitionParams,
    partitionServers,
  ),
];
