// The hardened profile's Galera tier as its tests look at it (test/hardened/): its nodes, SQL on a node's socket, its
// rows and wsrep state, the wait until it is one Primary component of three Synced nodes, and its nodes' logs.

import { ReferenceStack } from '../../src/stack/reference-stack.js';
import type { AttachedStack } from '../../src/stack/attached-stack.js';
import type { ContainerSummary } from '../../src/stack/docker-client.js';

export const CONVERGE_MS = 600_000;

/** The hardened stack up and healthy (`stack up` is idempotent; a cold start with state transfers is slow here). */
export const upHardened = (): Promise<AttachedStack> => new ReferenceStack({ profile: 'hardened' }).up({ timeoutMs: 900_000 });

/** The three mariadb containers, galera1..3 in order. */
export async function galeraNodes(stack: AttachedStack): Promise<ContainerSummary[]> {
  const list = (await stack.containers()).filter((c) => /^galera\d$/.test(c.server ?? '') && c.component === 'mariadb');
  return list.sort((a, b) => (a.server ?? '').localeCompare(b.server ?? ''));
}

export async function sql(stack: AttachedStack, id: string, query: string): Promise<string> {
  const r = await stack.docker.exec(id, ['mariadb', '--protocol=socket', '-uroot', '-N', '-B', '-e', query]);
  if (r.exitCode !== 0) throw new Error(`${query}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Count, highest id and sum of ids of the test table: equal on two nodes only when they hold the same rows. */
export const rowsOf = (stack: AttachedStack, id: string) => sql(stack, id, 'SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM faultline.items');

export async function wsrep(stack: AttachedStack, id: string): Promise<Record<string, string>> {
  const q = "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_cluster_size','wsrep_local_state','wsrep_cluster_state_uuid')";
  const out = await sql(stack, id, q).catch(() => '');
  return Object.fromEntries(out.split('\n').map((l) => l.split('\t') as [string, string]));
}

/** Waits until the three nodes are one Primary component of three, all Synced; returns the seconds since `since`. */
export async function converged(stack: AttachedStack, nodes: ContainerSummary[], since: number): Promise<number> {
  const deadline = Date.now() + CONVERGE_MS;
  let last = '';
  while (Date.now() < deadline) {
    const states = await Promise.all(nodes.map((n) => wsrep(stack, n.id)));
    last = states
      .map((s, i) => `${nodes[i]!.server}: ${s.wsrep_cluster_status ?? '-'} size ${s.wsrep_cluster_size ?? '-'} state ${s.wsrep_local_state ?? '-'}`)
      .join('; ');
    const uuids = new Set(states.map((s) => s.wsrep_cluster_state_uuid));
    if (uuids.size === 1 && states.every((s) => s.wsrep_cluster_status === 'Primary' && s.wsrep_cluster_size === '3' && s.wsrep_local_state === '4'))
      return (Date.now() - since) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
  }
  throw new Error(`the tier did not converge in ${CONVERGE_MS / 1000} s: ${last}`);
}

/** What a node logged since `sinceIso` (Docker's timestamps lead each line). */
export async function logSince(stack: AttachedStack, node: ContainerSummary, sinceIso: string): Promise<string> {
  return (await stack.docker.logs(node.id, 20_000))
    .split('\n')
    .filter((l) => l.slice(0, sinceIso.length) >= sinceIso)
    .join('\n');
}

/** Until the node's log has said `pattern` (Docker logs polled every 3 s). */
export async function waitLog(stack: AttachedStack, node: ContainerSummary, sinceIso: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await logSince(stack, node, sinceIso);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${node.server} did not log ${pattern} in ${timeoutMs / 1000} s:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 3000));
  }
}
