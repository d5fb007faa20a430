// Resource faults: CPU stress and memory pressure next to a server, with stress-ng in a helper that joins
// the server's network namespace and carries the stack's label. stress-ng is bounded by the fault's
// duration, so it ends by itself even if faultline dies; revert removes the helper and checks it is gone.

import { z } from 'zod';
import { FaultlineError } from '../errors.js';
import { byteSize, integer, percent } from './params.js';
import { listHelpers, removeFaultHelpers, startHelper, throwFirstRejection } from './helpers.js';
import { assertStackContainer, resolveServers, toRef } from './targets.js';
import type { FaultCheck, FaultContext, FaultDefinition, FaultRecord } from './types.js';

const dataSchema = z.object({
  servers: z.array(z.object({ hostId: z.string(), server: z.string(), helperId: z.string().optional() })),
  command: z.string(),
});
type ResourceData = z.infer<typeof dataSchema>;

async function applyResource(ctx: FaultContext, record: FaultRecord<ResourceData>, signal: AbortSignal): Promise<void> {
  const seconds = Math.max(1, Math.ceil(ctx.maxDurationMs / 1000));
  const ids: Record<string, string> = {};
  // Settled: every helper that was started is recorded before a failure elsewhere starts the revert.
  const outcomes = await Promise.allSettled(
    record.data.servers.map(async (s) => {
      await assertStackContainer(ctx, s.hostId);
      ids[s.hostId] = await startHelper(
        ctx,
        { faultId: record.id, hostId: s.hostId, apply: ':', revert: ':', run: `${record.data.command} --timeout ${seconds}s`, capAdd: [] },
        async (id) => {
          ids[s.hostId] = id;
        },
        signal,
      );
    }),
  );
  await ctx.store.update(record.id, {
    data: { ...record.data, servers: record.data.servers.map((s) => ({ ...s, ...(ids[s.hostId] ? { helperId: ids[s.hostId] } : {}) })) },
  });
  throwFirstRejection(outcomes);
}

async function revertResource(ctx: FaultContext, record: FaultRecord<ResourceData>): Promise<void> {
  await removeFaultHelpers(
    ctx,
    record.id,
    record.data.servers.map((s) => s.helperId).filter((x): x is string => Boolean(x)),
  );
  const left = await listHelpers(ctx, record.id);
  if (left.length) throw new FaultlineError('REVERT_FAILED', `${record.fault}: helper ${left.map((h) => h.id.slice(0, 12)).join(', ')} is still there`);
}

async function checkResource(ctx: FaultContext, record: FaultRecord<ResourceData>, signal: AbortSignal): Promise<FaultCheck> {
  const helpers = (await listHelpers(ctx, record.id)).filter((h) => h.state === 'running');
  const busy = await Promise.all(
    helpers.map(async (h) => (await ctx.docker.exec(h.id, ['pgrep', '-c', 'stress-ng'], { signal }).catch(() => undefined))?.stdout.trim() ?? '0'),
  );
  const n = busy.filter((b) => Number(b) > 0).length;
  return { active: n > 0 && n === record.data.servers.length, detail: `stress-ng running next to ${n}/${record.data.servers.length} servers` };
}

function resourceFault<P>(
  name: string,
  description: string,
  params: z.ZodType<P, z.ZodTypeDef, unknown>,
  command: (p: P) => string,
): FaultDefinition<P, ResourceData> {
  return {
    name,
    kind: 'resource',
    description,
    params,
    data: dataSchema,
    async plan(ctx, target, p) {
      if (!target) throw new FaultlineError('INVALID_INPUT', `${name}: target: required (e.g. --target server=db-primary)`);
      const hosts = await resolveServers(ctx, target);
      const cmd = command(p);
      return {
        targets: hosts.map(toRef),
        steps: [`run \`${cmd}\` in a helper beside ${hosts.map((h) => h.server).join(', ')}, bounded by the fault's duration`, 'revert: remove the helper'],
        slots: hosts.map((h) => `${h.server}:${name}`),
        data: { servers: hosts.map((h) => ({ hostId: h.id, server: h.server ?? h.name })), command: cmd },
      };
    },
    apply: (ctx, record, _u, signal) => applyResource(ctx, record, signal),
    revert: (ctx, record) => revertResource(ctx, record),
    check: (ctx, record, signal) => checkResource(ctx, record, signal),
  };
}

export const resourceFaults = [
  resourceFault(
    'cpu-stress',
    'keep CPUs busy beside a server (stress-ng --cpu)',
    z.object({ workers: integer(1, 64).default(1), load: percent({ min: 1 }).default(100) }).strict(),
    (p) => `stress-ng --cpu ${p.workers} --cpu-load ${p.load} --quiet`,
  ),
  resourceFault(
    'memory-pressure',
    'hold memory beside a server (stress-ng --vm, pages kept resident)',
    z.object({ size: byteSize(4 * 1024 ** 3).default('256M'), workers: integer(1, 16).default(1) }).strict(),
    (p) => `stress-ng --vm ${p.workers} --vm-bytes ${Math.floor(p.size / p.workers)} --vm-keep --quiet`,
  ),
];
