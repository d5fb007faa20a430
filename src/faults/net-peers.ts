// Peers of a narrowed network fault (`peer=`): a target expression (a server, a role) resolved to every IPv4 address
// its servers have, so a filter on one of them never leaves another path open while the fault says it is in effect.

import { FaultlineError } from '../errors.js';
import type { ContainerSummary } from '../stack/docker-client.js';
import { resolveServers } from './targets.js';
import type { FaultContext } from './types.js';

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/** Every IPv4 address of a server, sorted (pure); a server with none is refused in one line. */
export function serverAddresses(h: ContainerSummary): string[] {
  const ips = [...new Set(Object.values(h.addresses).filter((ip) => IPV4.test(ip)))].sort();
  if (!ips.length) throw new FaultlineError('UNKNOWN_TARGET', `${h.server ?? h.name} has no IPv4 address to filter on`);
  return ips;
}

/** The servers and addresses a `peer=` expression names; a bare expression means all of its matches (role=web: every web server). */
export async function resolvePeers(ctx: FaultContext, expr: string): Promise<{ servers: ContainerSummary[]; addresses: string[] }> {
  const servers = await resolveServers(ctx, /^(all|random|count|percent)(:|$)/.test(expr) ? expr : `all:${expr}`);
  return { servers, addresses: [...new Set(servers.flatMap(serverAddresses))].sort() };
}
