// The stack's servers as probes see them, found by label (or the description's service map): host container,
// addresses on the internal and edge networks, published ports; and the declared databases by role.

import { FaultlineError } from '../errors.js';
import type { ContainerSummary } from '../stack/docker-client.js';
import { isHelper } from '../stack/servers.js';
import type { AttachedStack } from '../stack/attached-stack.js';
import type { DbTarget } from './mysql.js';
import { resolveRole } from './databases.js';

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: string;
}

export interface ServerTarget {
  server: string;
  role: string;
  /** The host container (owner of the network namespace and firewall). */
  hostId: string;
  internal: string | undefined;
  edge: string | undefined;
  published: PublishedPort[];
  state: string;
}

/** "127.0.0.1:10443->443/tcp" → parts; null for anything else. Pure. */
export function parsePublished(text: string): PublishedPort | null {
  const m = /^(.*):(\d+)->(\d+)\/(\w+)$/.exec(text);
  return m ? { hostIp: m[1]!, hostPort: Number(m[2]), containerPort: Number(m[3]), proto: m[4]! } : null;
}

/** Groups labelled containers into servers (pure); probe and fault helpers are not servers. */
export function serversFrom(containers: ContainerSummary[], internalNetwork: string, edgeNetwork: string): ServerTarget[] {
  const out: ServerTarget[] = [];
  for (const c of containers) {
    if (!c.host || !c.server || isHelper(c)) continue;
    out.push({
      server: c.server,
      role: c.role ?? '',
      hostId: c.id,
      // A described stack may name its networks otherwise: any address of the server is still its own.
      internal: c.addresses[internalNetwork] ?? Object.values(c.addresses)[0],
      edge: c.addresses[edgeNetwork],
      published: c.ports.map(parsePublished).filter((p): p is PublishedPort => p !== null),
      state: c.state,
    });
  }
  return out.sort((a, b) => a.server.localeCompare(b.server));
}

export async function stackServers(stack: AttachedStack): Promise<ServerTarget[]> {
  const servers = serversFrom(await stack.containers(), stack.internalNetwork, stack.edgeNetwork);
  if (servers.length === 0) throw new FaultlineError('STACK_FAILED', `stack ${stack.project} has no servers; start it with \`faultline stack up\``);
  return servers;
}

/** A component container (e.g. the LB's haproxy), by label. */
export async function componentContainer(stack: AttachedStack, server: string, component: string): Promise<ContainerSummary> {
  const c = (await stack.containers()).find((x) => x.server === server && x.component === component);
  if (!c) throw new FaultlineError('UNKNOWN_TARGET', `stack ${stack.project} has no ${component} on ${server}`);
  return c;
}

/**
 * The operator's connection to the stack's primary or replica database: the first database the description
 * declares with that role (the reference stack's own description names db-primary and db-replica with the admin
 * login from its state folder), so the probes that use it work on any described stack.
 */
export async function dbTarget(stack: AttachedStack, server: 'db-primary' | 'db-replica'): Promise<DbTarget> {
  return (await resolveRole(stack, server === 'db-primary' ? 'primary' : 'replica')).target;
}
