// What a stack's containers say about its servers, as pure functions of the container list: grouping by server,
// readiness, web servers, helpers, and containers left on a dead server's network namespace.

import { LABEL, type ContainerSummary } from './docker-types.js';
import { referenceCompose, serverAddressesOf } from './compose-model.js';
import type { ProfileName } from './profiles.js';

export interface ComponentStatus {
  component: string;
  container: string;
  id: string;
  state: string;
  health: string;
  /** Why it is not healthy yet, as its health check said (e.g. a Galera node waiting for its peers). */
  detail?: string;
}

export interface ServerStatus {
  server: string;
  role: string;
  /** Address on the internal network. */
  address: string | undefined;
  components: ComponentStatus[];
}

export interface StackStatus {
  project: string;
  /** The reference stack's profile (baseline or hardened); absent for a described stack. */
  profile?: string;
  httpUrl: string;
  httpsUrl: string;
  caPath: string;
  domain: string;
  netPrefix: string;
  edgePrefix: string;
  stateDir: string;
  servers: ServerStatus[];
}

/** The internal addresses of the reference stack's servers, as compose/docker-compose.yml declares them. */
export function serverAddresses(netPrefix: string, profile: ProfileName = 'baseline'): Record<string, string> {
  return serverAddressesOf(referenceCompose(profile), { FAULTLINE_NET_PREFIX: netPrefix });
}

/** The web servers the LB balances over, as the stack's labels tell (pure). */
export function webServersOf(containers: Array<Pick<ContainerSummary, 'server' | 'role' | 'labels'>>): string[] {
  const servers = containers.filter((c) => c.role === 'web' && c.server && !isHelper(c)).map((c) => c.server!);
  return [...new Set(servers)].sort();
}

/** "web1", "web1 and web2", "web1, web2 and web3" (pure). */
export function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** Groups a stack's containers into servers (pure). */
export function groupServers(containers: ContainerSummary[], internalNetwork: string): ServerStatus[] {
  const byServer = new Map<string, ServerStatus>();
  for (const c of containers) {
    if (!c.server || isHelper(c)) continue;
    let s = byServer.get(c.server);
    if (!s) {
      s = { server: c.server, role: c.role ?? '', address: undefined, components: [] };
      byServer.set(c.server, s);
    }
    if (c.host) s.address = c.addresses[internalNetwork] ?? Object.values(c.addresses)[0];
    s.components.push({ component: c.component ?? '?', container: c.name, id: c.id, state: c.state, health: c.health });
  }
  const order = ['lb', 'web', 'db-primary', 'db-replica', 'monitor'];
  return [...byServer.values()]
    .map((s) => ({
      ...s,
      components: s.components.sort((a, b) => (a.component === 'host' ? -1 : b.component === 'host' ? 1 : a.component.localeCompare(b.component))),
    }))
    .sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role) || a.server.localeCompare(b.server));
}

/** A container faultline started (fault helper, probe vantage point), not one of the stack's services. */
export function isHelper(c: Pick<ContainerSummary, 'labels' | 'role'>): boolean {
  return Boolean(c.labels[LABEL.fault] || c.labels[LABEL.helper]) || c.role === 'vantage';
}

export interface NamespaceUse {
  container: Pick<ContainerSummary, 'id' | 'server' | 'component' | 'service' | 'state'>;
  networkMode: string;
}

/**
 * The compose services whose container joined a server's network namespace that is gone (pure): compose v1
 * recreates a server whose configuration changed (an upgrade) but not the components that run in its
 * namespace (network_mode: service:<server>), which are then left in a dead one, unreachable.
 */
export function staleNamespaceServices(list: NamespaceUse[]): string[] {
  const hosts = new Map(list.filter((u) => u.container.component === 'host' && u.container.server).map((u) => [u.container.server!, u.container.id]));
  const stale = list.filter((u) => {
    const m = /^container:([0-9a-f]{12,64})$/.exec(u.networkMode);
    const host = u.container.server ? hosts.get(u.container.server) : undefined;
    return Boolean(m && host && !host.startsWith(m[1]!) && u.container.service);
  });
  return [...new Set(stale.map((u) => u.container.service))].sort();
}

export function isReady(c: Pick<ContainerSummary, 'state' | 'health'>): boolean {
  return c.state === 'running' && (c.health === 'healthy' || c.health === 'none');
}
