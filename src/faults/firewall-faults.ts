// Firewall faults: change the nftables table `inet faultline` in a server's network namespace (by exec in
// its host container, which owns that namespace and has NET_ADMIN). One exec saves the table's text (to a
// file in the server, and back into the record) and applies the change; revert replaces the table with the
// saved text in one nft transaction and compares the result. The same exec arms a sleeper in the server that
// restores the saved copy by itself if no revert came by the run's maximum duration (switch.ts).

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { execOk, throwFirstRejection } from './helpers.js';
import { armScript, disarmScript, firewallUndo, switchArgv, switchSeconds } from './switch.js';
import { integer } from './params.js';
import { assertStackContainer, assertStackLabels, resolveServers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultPlan, FaultRecord, RecordUpdate } from './types.js';

/** The reference stack's firewall; a description names its own (`firewall: { table, chain }`). */
export const DEFAULT_FIREWALL = { table: 'inet faultline', chain: 'input' } as const;
/** "family name": what goes into nft commands, so only that shape is accepted (it comes from files). */
const TABLE_NAME = /^(inet|ip|ip6) [A-Za-z0-9_-]{1,64}$/;
const CHAIN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const dataSchema = z.object({
  servers: z.array(
    z.object({
      hostId: z.string(),
      server: z.string(),
      /** The table before the fault (null: there was none); undefined until apply has read it. */
      saved: z.string().nullable().optional(),
      /**
       * Where apply keeps the same text inside the server, for a revert after faultline died mid-apply. It goes
       * into shell text, so only a path of the shape faultline writes is accepted from the state file.
       */
      savedPath: z
        .string()
        .regex(/^\/run\/faultline\/faultline-fault-[a-z0-9]+\.nft$/, 'not a path faultline writes')
        .optional(),
      script: z.string(),
    }),
  ),
  marker: z.string(),
  /** The nft table and input chain the fault changed (absent in records of older versions: the defaults). */
  table: z.string().regex(TABLE_NAME, 'not an nft table (family name)').optional(),
  chain: z.string().regex(CHAIN_NAME, 'not an nft chain name').optional(),
});
type FirewallData = z.infer<typeof dataSchema>;

/** The table as `nft list` prints it, or null when there is none. */
export async function listTable(ctx: FaultContext, hostId: string, signal: AbortSignal, table: string = DEFAULT_FIREWALL.table): Promise<string | null> {
  const res = await ctx.docker.exec(hostId, ['nft', 'list', 'table', ...table.split(' ')], { signal });
  if (res.exitCode !== 0) {
    if (/No such file|does not exist/i.test(res.stderr)) return null;
    throw new FaultlineError('INTERNAL', `nft list table failed: ${res.stderr.trim()}`);
  }
  return res.stdout;
}

/** One atomic nft transaction that makes the table exactly `saved` again (or removes it). Pure. */
export function restoreScript(saved: string | null, table: string = DEFAULT_FIREWALL.table): string {
  // "table …; delete table …" first makes the delete valid whether or not the table exists now.
  const reset = `table ${table}\ndelete table ${table}\n`;
  return saved === null ? reset : `${reset}${saved}`;
}

const SAVE_DIR = '/run/faultline';

/**
 * Shell that saves the table to `path` (once: a retried apply keeps the first copy; empty means absent), arms
 * the dead man's switch (`arm`, switch.ts: a sleeper in the server that restores that copy if no revert came),
 * applies the nft script from stdin, and prints the saved copy: one exec on the way to the effect instead of
 * two (an exec is most of a firewall fault's cost). Pure.
 */
export function saveAndApplyScript(path: string, table: string = DEFAULT_FIREWALL.table, arm = ''): string {
  return [
    'set -e',
    `mkdir -p ${SAVE_DIR}`,
    `if [ ! -e '${path}' ]; then nft list table ${table} > '${path}.tmp' 2>/dev/null || : > '${path}.tmp'; mv '${path}.tmp' '${path}'; fi`,
    ...(arm ? [arm] : []),
    'nft -f -',
    `cat '${path}'`,
  ].join('\n');
}

type Build = (server: string, fw: { table: string; chain: string }) => { script: string; step: string };

async function planFirewall(ctx: FaultContext, target: string, build: Build): Promise<FaultPlan<FirewallData>> {
  const hosts = await resolveServers(ctx, target);
  const fw = ctx.stack.spec?.firewall ?? DEFAULT_FIREWALL;
  const marker = `faultline-fault-${Date.now().toString(36)}`;
  const servers: FirewallData['servers'] = [];
  const steps: string[] = [];
  for (const h of hosts) {
    const server = h.server ?? h.name;
    const { script, step } = build(server, fw);
    const savedPath = `${SAVE_DIR}/${marker}.nft`;
    servers.push({ hostId: h.id, server, savedPath, script: script.replaceAll('@MARK@', marker) });
    steps.push(`${server}: save table ${fw.table} (into the record, and ${savedPath} in the server); ${step}`);
  }
  steps.push("dead man's switch: a sleeper in each server restores the saved table if no revert came by the run's maximum duration");
  steps.push('revert: replace the table with the saved text in one nft transaction, then compare');
  return { targets: hosts.map(toRef), steps, slots: servers.map((s) => `${s.server}:firewall`), data: { servers, marker, table: fw.table, chain: fw.chain } };
}

async function applyFirewall(ctx: FaultContext, record: FaultRecord<FirewallData>, update: RecordUpdate<FirewallData>, signal: AbortSignal): Promise<void> {
  // Every server's change runs to its end (never cut by an interrupt, never raced by another server's
  // failure) before the record is updated and the revert may start: the revert then sees all of them.
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      await assertStackContainer(ctx, s.hostId);
      if (!s.savedPath) throw new FaultlineError('INTERNAL', `${record.fault}: no place to save the firewall of ${s.server}`);
      const table = record.data.table ?? DEFAULT_FIREWALL.table;
      const arm = armScript(record.id, switchSeconds(ctx.maxDurationMs), firewallUndo(table, s.savedPath));
      const res = await execOk(ctx, s.hostId, switchArgv(record.id, saveAndApplyScript(s.savedPath, table, arm)), {
        stdin: s.script,
        what: `${record.fault} on ${s.server}`,
        toEnd: true,
      });
      return res.stdout === '' ? null : res.stdout;
    }),
  );
  const servers = record.data.servers.map((s, i) => {
    const o = outcomes[i]!;
    return o.status === 'fulfilled' ? { ...s, saved: o.value } : s;
  });
  await update({ servers });
  throwFirstRejection(outcomes);
  signal.throwIfAborted();
}

/** The saved table: from the record, or (faultline died between apply and recording it) from the server. */
async function savedTable(ctx: FaultContext, s: FirewallData['servers'][number], signal: AbortSignal): Promise<string | null | 'never-applied'> {
  if (s.saved !== undefined) return s.saved;
  if (!s.savedPath) return 'never-applied';
  const res = await ctx.docker.exec(s.hostId, ['cat', s.savedPath], { signal });
  if (res.exitCode !== 0) return 'never-applied'; // apply saves before it changes anything
  return res.stdout === '' ? null : res.stdout;
}

async function revertFirewall(ctx: FaultContext, record: FaultRecord<FirewallData>, signal: AbortSignal): Promise<void> {
  // Every server is restored even when another one fails.
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      // Only a 404 means gone: any other Docker error fails the revert and keeps the record.
      const info = await ctx.docker.findContainer(s.hostId);
      if (!info?.running) return; // its network namespace (and the change) is gone with it
      assertStackLabels(ctx, info);
      const saved = await savedTable(ctx, s, signal);
      if (saved === 'never-applied') return;
      // One exec restores, disarms the dead man's switch and drops the copy in the server (only once the restore
      // worked), and prints the result: the comparison costs no extra round trip.
      const drop = s.savedPath ? `rm -f '${s.savedPath}'; ` : '';
      const table = record.data.table ?? DEFAULT_FIREWALL.table;
      const res = await execOk(ctx, s.hostId, ['sh', '-c', `nft -f - && { ${disarmScript(record.id)}; ${drop}}; nft list table ${table} 2>/dev/null; true`], {
        stdin: restoreScript(saved, table),
        signal,
        what: `restoring the firewall of ${s.server}`,
      });
      const now = res.stdout.trim() === '' ? null : res.stdout;
      if (now !== saved) throw new FaultlineError('REVERT_FAILED', `${s.server}: firewall differs from the saved ruleset after restore`);
    }),
  );
  throwFirstRejection(outcomes);
}

async function checkFirewall(ctx: FaultContext, record: FaultRecord<FirewallData>, signal: AbortSignal): Promise<FaultCheck> {
  const changed = await Promise.all(
    record.data.servers.map(async (s) => {
      const saved = await savedTable(ctx, s, signal).catch(() => 'never-applied' as const);
      return saved !== 'never-applied' && (await listTable(ctx, s.hostId, signal, record.data.table).catch(() => saved)) !== saved;
    }),
  );
  const n = changed.filter(Boolean).length;
  return { active: n === changed.length, detail: `${n}/${changed.length} firewalls differ from the saved ruleset` };
}

function firewallFault<P>(
  name: string,
  description: string,
  defaultTarget: string,
  params: z.ZodType<P, z.ZodTypeDef, unknown>,
  build: (params: P, server: string, fw: { table: string; chain: string }) => { script: string; step: string },
): FaultDefinition<P, FirewallData> {
  return {
    name,
    kind: 'firewall',
    description,
    defaultTarget,
    params,
    data: dataSchema,
    plan: (ctx, target, p) => planFirewall(ctx, target ?? defaultTarget, (server, fw) => build(p, server, fw)),
    apply: (ctx, record, update, signal) => applyFirewall(ctx, record, update, signal),
    revert: (ctx, record, signal) => revertFirewall(ctx, record, signal),
    check: (ctx, record, signal) => checkFirewall(ctx, record, signal),
  };
}

const openPortParams = z.object({ port: integer(1, 65535).default(3306), proto: z.enum(['tcp', 'udp']).default('tcp') }).strict();

export const firewallFaults = [
  firewallFault('firewall-open-port', 'open one port to everyone (default 3306 on the db primary)', 'role=db-primary', openPortParams, (p, _server, fw) => ({
    script: `insert rule ${fw.table} ${fw.chain} ${p.proto} dport ${p.port} accept comment "@MARK@"\n`,
    step: `accept ${p.proto}/${p.port} from anywhere (first rule of the input chain)`,
  })),
  firewallFault(
    'firewall-flush',
    "remove a server's firewall entirely (as `nft flush ruleset` would): every port open",
    'role=db-primary',
    z.object({}).strict(),
    (_p, _server, fw) => ({
      script: `delete table ${fw.table}\n`,
      step: `delete table ${fw.table} (default accept)`,
    }),
  ),
  firewallFault(
    'firewall-bypass-lb',
    'web servers accept HTTP from anyone, so the LB can be bypassed',
    'all:role=web',
    z.object({ port: integer(1, 65535).default(80) }).strict(),
    (p, _server, fw) => ({
      script: `insert rule ${fw.table} ${fw.chain} tcp dport ${p.port} accept comment "@MARK@"\n`,
      step: `accept tcp/${p.port} from anywhere, not only from the LB`,
    }),
  ),
];
