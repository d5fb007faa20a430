// Firewall faults: change the nftables table `inet faultline` in a server's network namespace (by exec in
// its host container, which owns that namespace and has NET_ADMIN). The table's text is saved first;
// revert replaces the table with it in one nft transaction and compares the result.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { execOk } from './helpers.js';
import { integer } from './params.js';
import { assertStackContainer, resolveServers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan, FaultRecord } from './types.js';

const TABLE = ['inet', 'faultline'] as const;

const dataSchema = z.object({
  servers: z.array(z.object({ hostId: z.string(), server: z.string(), saved: z.string().nullable(), script: z.string() })),
  marker: z.string(),
});
type FirewallData = z.infer<typeof dataSchema>;

/** The table as `nft list` prints it, or null when there is none. */
export async function listTable(ctx: FaultContext, hostId: string, signal: AbortSignal): Promise<string | null> {
  const res = await ctx.docker.exec(hostId, ['nft', 'list', 'table', ...TABLE], { signal });
  if (res.exitCode !== 0) {
    if (/No such file|does not exist/i.test(res.stderr)) return null;
    throw new FaultlineError('INTERNAL', `nft list table failed: ${res.stderr.trim()}`);
  }
  return res.stdout;
}

/** One atomic nft transaction that makes the table exactly `saved` again (or removes it). Pure. */
export function restoreScript(saved: string | null): string {
  // "table …; delete table …" first makes the delete valid whether or not the table exists now.
  const reset = `table ${TABLE.join(' ')}\ndelete table ${TABLE.join(' ')}\n`;
  return saved === null ? reset : `${reset}${saved}`;
}

async function planFirewall(
  ctx: FaultContext,
  target: string,
  signal: AbortSignal,
  build: (server: string) => { script: string; step: string },
): Promise<FaultPlan<FirewallData>> {
  const hosts = await resolveServers(ctx, target);
  const marker = `faultline-fault-${Date.now().toString(36)}`;
  const servers: FirewallData['servers'] = [];
  const steps: string[] = [];
  for (const h of hosts) {
    const saved = await listTable(ctx, h.id, signal);
    const server = h.server ?? h.name;
    const { script, step } = build(server);
    servers.push({ hostId: h.id, server, saved, script: script.replaceAll('@MARK@', marker) });
    steps.push(`${server}: save table inet faultline (${saved === null ? 'absent' : `${saved.split('\n').length} lines`}); ${step}`);
  }
  steps.push('revert: replace the table with the saved text in one nft transaction, then compare');
  return { targets: hosts.map(toRef), steps, slots: servers.map((s) => `${s.server}:firewall`), data: { servers, marker } };
}

async function applyFirewall(ctx: FaultContext, record: FaultRecord<FirewallData>, signal: AbortSignal): Promise<void> {
  await Promise.all(
    record.data.servers.map(async (s) => {
      await assertStackContainer(ctx, s.hostId);
      await execOk(ctx, s.hostId, ['nft', '-f', '-'], { stdin: s.script, signal, what: `${record.fault} on ${s.server}` });
    }),
  );
}

async function revertFirewall(ctx: FaultContext, record: FaultRecord<FirewallData>, signal: AbortSignal): Promise<void> {
  await Promise.all(
    record.data.servers.map(async (s) => {
      const info = await ctx.docker.inspect(s.hostId).catch(() => undefined);
      if (!info?.State.Running) return; // its network namespace (and the change) is gone with it
      await assertStackContainer(ctx, s.hostId);
      // One exec restores and prints the result, so the comparison costs no extra round trip.
      const res = await execOk(ctx, s.hostId, ['sh', '-c', `nft -f - && nft list table ${TABLE.join(' ')} 2>/dev/null; true`], {
        stdin: restoreScript(s.saved),
        signal,
        what: `restoring the firewall of ${s.server}`,
      });
      const now = res.stdout.trim() === '' ? null : res.stdout;
      if (now !== s.saved) throw new FaultlineError('REVERT_FAILED', `${s.server}: firewall differs from the saved ruleset after restore`);
    }),
  );
}

async function checkFirewall(ctx: FaultContext, record: FaultRecord<FirewallData>, signal: AbortSignal): Promise<FaultCheck> {
  const changed = await Promise.all(record.data.servers.map(async (s) => (await listTable(ctx, s.hostId, signal).catch(() => s.saved)) !== s.saved));
  const n = changed.filter(Boolean).length;
  return { active: n === changed.length, detail: `${n}/${changed.length} firewalls differ from the saved ruleset` };
}

function firewallFault<P>(
  name: string,
  description: string,
  defaultTarget: string,
  params: z.ZodType<P, z.ZodTypeDef, unknown>,
  build: (params: P, server: string) => { script: string; step: string },
): FaultDefinition<P, FirewallData> {
  return {
    name,
    kind: 'firewall',
    description,
    defaultTarget,
    params,
    data: dataSchema,
    plan: (ctx, target, p, signal) => planFirewall(ctx, target ?? defaultTarget, signal, (server) => build(p, server)),
    apply: (ctx, record, _u, signal) => applyFirewall(ctx, record, signal),
    revert: (ctx, record, signal) => revertFirewall(ctx, record, signal),
    check: (ctx, record, signal) => checkFirewall(ctx, record, signal),
  };
}

const openPortParams = z.object({ port: integer(1, 65535).default(3306), proto: z.enum(['tcp', 'udp']).default('tcp') }).strict();

export const firewallFaults = [
  firewallFault('firewall-open-port', 'open one port to everyone (default 3306 on the db primary)', 'server=db-primary', openPortParams, (p) => ({
    script: `insert rule inet faultline input ${p.proto} dport ${p.port} accept comment "@MARK@"\n`,
    step: `accept ${p.proto}/${p.port} from anywhere (first rule of the input chain)`,
  })),
  firewallFault('firewall-flush', "remove a server's firewall entirely (as `nft flush ruleset` would): every port open", 'server=db-primary', z.object({}).strict(), () => ({
    script: `delete table inet faultline\n`,
    step: 'delete table inet faultline (default accept)',
  })),
  firewallFault('firewall-bypass-lb', 'web servers accept HTTP from anyone, so the LB can be bypassed', 'all:role=web', z.object({ port: integer(1, 65535).default(80) }).strict(), (p) => ({
    script: `insert rule inet faultline input tcp dport ${p.port} accept comment "@MARK@"\n`,
    step: `accept tcp/${p.port} from anywhere, not only from the LB`,
  })),
];
