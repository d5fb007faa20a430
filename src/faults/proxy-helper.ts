// One server's fault proxy: a helper from the proxy image in the server's network namespace that starts the proxy,
// diverts the port to it and holds (proxy-config.ts helperScript), and the revert that removes the diversion before
// the helper. Shared by the proxy faults and net-latency where the kernel has no netem.

import { FaultlineError } from '../errors.js';
import { LABEL } from '../stack/docker-client.js';
import { DEFAULT_FIREWALL } from './firewall-faults.js';
import { READY_LINE, removeFaultHelpers } from './helpers.js';
import { admittedSources, PROXY_PORTS, probeScript, proxyConfigSchema, undoScript, helperScript, type Diversion, type ProxyConfig } from './proxy-config.js';
import { proxyImage } from './proxy-image.js';
import { switchSeconds } from './switch.js';
import { assertStackContainer, assertStackLabels } from './targets.js';
import type { FaultContext } from './types.js';

/** One server a proxy fault acts on, as recorded. */
export interface ProxyServer {
  hostId: string;
  server: string;
  diversion: Diversion;
  helperId?: string | undefined;
}

/** A proxy port for a new fault: drawn from the range (a clash with a port in use fails the apply, which reverts). */
export function drawProxyPort(random: () => number): number {
  return PROXY_PORTS.from + Math.floor(random() * (PROXY_PORTS.to - PROXY_PORTS.from + 1));
}

/**
 * Who the server's firewall admits to the port (read by exec in its host container); null when it has no such table
 * or no nft to ask, so nothing is added to it.
 */
export async function readFirewall(ctx: FaultContext, hostId: string, port: number, signal: AbortSignal): Promise<Diversion['firewall']> {
  const fw = ctx.stack.spec?.firewall ?? DEFAULT_FIREWALL;
  const res = await ctx.docker.exec(hostId, ['nft', 'list', 'table', ...fw.table.split(' ')], { signal }).catch(() => undefined);
  if (!res || res.exitCode !== 0) return null;
  return { table: fw.table, chain: fw.chain, sources: admittedSources(res.stdout, port) };
}

/**
 * Starts the proxy beside one server and diverts the port to it; resolves once connections go through it. The helper
 * id is handed to `onCreated` before anything waits, so a revert finds it whatever happens next.
 */
export async function startProxy(
  ctx: FaultContext,
  faultId: string,
  s: ProxyServer,
  config: ProxyConfig,
  onCreated: (helperId: string) => Promise<void>,
  signal: AbortSignal,
): Promise<string> {
  await assertStackContainer(ctx, s.hostId);
  const image = await proxyImage(ctx, s.hostId, signal);
  const full = proxyConfigSchema.parse({ ...config, listen: s.diversion.proxyPort, upstreamPort: s.diversion.port });
  const id = await ctx.docker.runDetached({
    image,
    entrypoint: ['sh', '-c', helperScript(s.diversion, faultId, switchSeconds(ctx.maxDurationMs), READY_LINE)],
    cmd: [],
    env: [`PROXY_CONFIG=${JSON.stringify(full)}`],
    helper: 'fault',
    labels: { [LABEL.stack]: ctx.stack.project, [LABEL.fault]: faultId, 'faultline.helper-for': s.hostId.slice(0, 12) },
    networkMode: `container:${s.hostId}`,
    near: s.hostId,
    capAdd: ['NET_ADMIN', 'SETUID', 'SETGID'],
  });
  await onCreated(id);
  await ctx.docker.waitForOutput(id, new RegExp(READY_LINE), { timeoutMs: 20_000, signal }).catch(async (err: unknown) => {
    const logs = await ctx.docker.logs(id, 5).catch(() => '');
    throw new FaultlineError(
      'INTERNAL',
      `the fault proxy on ${s.server} did not start: ${(err as Error).message}${logs ? ` (${logs.trim().slice(0, 300)})` : ''}`,
      {
        cause: err,
      },
    );
  });
  return id;
}

/**
 * Undoes one server's diversion (redirect first, then the firewall's rules), in the helper (which has nft) or, when the
 * helper is gone, in the host container; then proves nothing is left. The helper itself is removed by the caller.
 */
export async function undoProxy(ctx: FaultContext, faultId: string, s: ProxyServer, signal: AbortSignal): Promise<void> {
  // Both looked up at once: a revert's time to healthy is mostly these round trips on a loaded engine.
  const [host, helper] = await Promise.all([
    ctx.docker.findContainer(s.hostId),
    s.helperId ? ctx.docker.findContainer(s.helperId).catch(() => undefined) : undefined,
  ]);
  if (!host?.running) return; // its namespace went with it
  assertStackLabels(ctx, host);
  const script = `${undoScript(s.diversion, faultId)}; ${probeScript(s.diversion, faultId)}`;
  const where = helper?.running && helper.labels[LABEL.fault] === faultId ? s.helperId! : s.hostId;
  const res = await ctx.docker.exec(where, ['sh', '-c', script], { signal });
  if (res.exitCode !== 0)
    throw new FaultlineError('REVERT_FAILED', `${s.server}: undoing the diversion failed: ${(res.stderr || res.stdout).trim().slice(0, 300)}`);
  if (res.stdout.trim()) throw new FaultlineError('REVERT_FAILED', `${s.server}: the diversion is still in place after revert: ${res.stdout.trim()}`);
}

/** Reverts every server (all of them even when one fails), then removes the fault's helpers. */
export async function revertProxies(ctx: FaultContext, faultId: string, servers: ProxyServer[], signal: AbortSignal): Promise<void> {
  const outcomes = await Promise.allSettled(servers.map((s) => undoProxy(ctx, faultId, s, signal)));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  await removeFaultHelpers(
    ctx,
    faultId,
    servers.map((s) => s.helperId).filter((x): x is string => Boolean(x)),
  );
}

/** Whether a server's diversion is in place and its proxy runs. */
export async function proxyActive(ctx: FaultContext, faultId: string, s: ProxyServer, signal: AbortSignal): Promise<boolean> {
  if (!s.helperId) return false;
  const res = await ctx.docker
    .exec(s.helperId, ['sh', '-c', `${probeScript(s.diversion, faultId)}; grep -q '^listening' /tmp/proxy.out && echo proxy`], { signal })
    .catch(() => undefined);
  return Boolean(res && /proxy$/.test(res.stdout.trim()) && res.stdout.includes('table inet'));
}
