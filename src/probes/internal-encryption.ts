// Encryption inside the stack (the design's weakness 1): does a web server answer plaintext HTTP from the LB,
// and may the app's (and replication's) database sessions run without TLS. Session ciphers of other
// connections cannot be read in MariaDB, so the honest check is the server's TLS support and what the
// accounts are required to use (have_ssl, require_secure_transport, REQUIRE in the grants).

import { z } from 'zod';
import { queryRows, withConnection, type DbTarget } from './mysql.js';
import { clusterStatus, socketSsl } from './cluster.js';
import { databasesByRole, resolveDatabase } from './databases.js';
import { dbTarget, stackServers } from './targets.js';
import { gradeAtLeast, gradeOf, gradeTolerance, GRADES, type Grade } from './grade.js';
import { observation, startMark } from './runner.js';
import type { Finding, Observation, Probe, ProbeContext } from './types.js';

export interface HttpHop {
  from: string;
  to: string;
  address: string;
  /** HTTP status of a plaintext GET /health on port 80; null when nothing answered. */
  plaintextStatus: number | null;
  /** How the LB's configuration reaches this server: TLS with the certificate verified, TLS unverified, or plain. */
  lbTls: 'verified' | 'unverified' | 'plain' | null;
  error: string | null;
}

export interface DbTransport {
  reachable: boolean;
  error: string | null;
  haveSsl: string | null;
  requireSecureTransport: boolean | null;
  /** Account → whether its grants REQUIRE SSL/X509/a cipher. */
  accountsRequireTls: Record<string, boolean | null>;
  /** Replica's Master_SSL_Allowed. */
  replicationSsl: string | null;
  /** A Galera cluster's group traffic: socket.ssl on every node; null when there is no cluster. */
  clusterSsl: boolean | null;
}

/** One hop of the data path, as the report counts them (LB → web servers, web → database, replication). */
export interface DataPathHop {
  from: string;
  to: string;
  encrypted: boolean;
  detail: string;
}

export interface InternalFacts {
  http: HttpHop[];
  db: DbTransport;
}

/** The hops of the data path and whether each is encrypted (pure): a hop counts as plaintext if any of its links is. */
export function dataPathHops(f: InternalFacts): DataPathHop[] {
  const hops: DataPathHop[] = [];
  if (f.http.length) {
    const plain = f.http.filter((h) => h.plaintextStatus !== null || (h.lbTls !== null && h.lbTls !== 'verified'));
    hops.push({
      from: 'lb',
      to: 'web servers',
      encrypted: plain.length === 0,
      detail: plain.length
        ? plain.map((h) => `${h.to}: ${h.plaintextStatus !== null ? `plaintext HTTP answered ${h.plaintextStatus}` : `LB → ${h.to} is ${h.lbTls}`}`).join(', ')
        : `TLS verified by the LB to ${f.http.map((h) => h.to).join(', ')}; no plaintext port answers`,
    });
  }
  const d = f.db;
  if (d.reachable) {
    const required = d.haveSsl === 'YES' && (d.requireSecureTransport === true || d.accountsRequireTls.app === true);
    hops.push({
      from: 'web servers',
      to: 'database',
      encrypted: required,
      detail: required
        ? `TLS required (require_secure_transport=${d.requireSecureTransport ? 'ON' : 'OFF'}, app account REQUIRE SSL: ${d.accountsRequireTls.app ?? 'unknown'})`
        : `have_ssl=${d.haveSsl}, require_secure_transport=${d.requireSecureTransport ? 'ON' : 'OFF'}: sessions may be plaintext`,
    });
    if (d.clusterSsl !== null)
      hops.push({
        from: 'database',
        to: 'database',
        encrypted: d.clusterSsl,
        detail: d.clusterSsl ? 'Galera group traffic over TLS (socket.ssl on every node)' : 'Galera group traffic without TLS on some node',
      });
    else if (d.replicationSsl !== null)
      hops.push({
        from: 'db-primary',
        to: 'db-replica',
        encrypted: d.replicationSsl === 'Yes',
        detail: `replication Master_SSL_Allowed=${d.replicationSsl}`,
      });
  }
  return hops;
}

/** Per server of an HAProxy backend: whether it is reached over TLS and with the certificate verified (pure). */
export function backendTls(cfg: string, backend = 'web'): Record<string, 'verified' | 'unverified' | 'plain'> {
  const out: Record<string, 'verified' | 'unverified' | 'plain'> = {};
  let inside = false;
  let defaults = '';
  for (const raw of cfg.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (/^(backend|frontend|listen|defaults|global)\b/.test(line)) {
      inside = line === `backend ${backend}` || line === `listen ${backend}`;
      defaults = '';
      continue;
    }
    if (!inside) continue;
    if (line.startsWith('default-server ')) defaults = line;
    const m = /^server\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const words = ` ${defaults} ${m[2]} `;
    const ssl = / ssl /.test(words) && !/ no-ssl /.test(words);
    out[m[1]!] = !ssl ? 'plain' : / verify required /.test(words) && / ca-file /.test(words) ? 'verified' : 'unverified';
  }
  return out;
}

/** Findings from the internal facts (pure). Plaintext hops are "high"; they feed the separate internal grade. */
export function internalFindings(f: InternalFacts): Finding[] {
  const out: Finding[] = [];
  const plain = f.http.filter((h) => h.plaintextStatus !== null);
  if (plain.length) {
    out.push({
      id: 'internal-plaintext-http',
      severity: 'high',
      scope: 'internal',
      message: `LB → web servers is plaintext HTTP: ${plain.map((h) => `${h.to} answered ${h.plaintextStatus}`).join(', ')}`,
      where: plain.map((h) => `${h.from} → ${h.to}:80`).join(', '),
    });
  }
  const d = f.db;
  if (!d.reachable) {
    out.push({ id: 'internal-db-unknown', severity: 'info', scope: 'internal', message: `database transport not checked: ${d.error}` });
  } else {
    const tlsOn = d.haveSsl === 'YES';
    const app = d.accountsRequireTls.app;
    if (!tlsOn)
      out.push({
        id: 'internal-plaintext-db',
        severity: 'high',
        scope: 'internal',
        message: `the primary has no TLS (have_ssl=${d.haveSsl}): web → database sessions are plaintext`,
        where: 'web → db-primary:3306',
      });
    else if (!d.requireSecureTransport && app !== true)
      out.push({
        id: 'internal-plaintext-db',
        severity: 'high',
        scope: 'internal',
        message: 'TLS is available but not required for the app account: web → database sessions may be plaintext',
        where: 'web → db-primary:3306',
      });
    if (d.replicationSsl !== null && d.replicationSsl !== 'Yes')
      out.push({
        id: 'internal-plaintext-replication',
        severity: 'medium',
        scope: 'internal',
        message: `replication runs without TLS (Master_SSL_Allowed=${d.replicationSsl})`,
        where: 'db-replica → db-primary:3306',
      });
  }
  return out;
}

/** Whether SHOW GRANTS output requires TLS (pure). */
export function grantsRequireTls(grants: string[]): boolean {
  return grants.some((g) => /\bREQUIRE\s+(SSL|X509|ISSUER|SUBJECT|CIPHER)/i.test(g));
}

async function httpHops(ctx: ProbeContext, signal: AbortSignal): Promise<HttpHop[]> {
  const servers = await stackServers(ctx.stack);
  const lb = servers.find((s) => s.role === 'lb');
  const webs = servers.filter((s) => s.role === 'web' && s.internal);
  if (!lb) return [];
  const tlsTo = await lbBackendTls(ctx, signal);
  return Promise.all(
    webs.map(async (w): Promise<HttpHop> => {
      // From the LB's own namespace: the only address the web firewalls admit on 80.
      const res = await ctx.docker.exec(
        lb.hostId,
        ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `http://${w.internal}:80/health`],
        { signal },
      );
      const code = Number(res.stdout.trim());
      return {
        from: lb.server,
        to: w.server,
        address: w.internal!,
        plaintextStatus: code > 0 ? code : null,
        lbTls: tlsTo?.[w.server] ?? null,
        error: code > 0 ? null : `curl exit ${res.exitCode}`,
      };
    }),
  );
}

/** The LB's own configuration (what HAProxy runs), per web server; null when there is no HAProxy to ask. */
async function lbBackendTls(ctx: ProbeContext, signal: AbortSignal): Promise<Record<string, 'verified' | 'unverified' | 'plain'> | null> {
  const haproxy = (await ctx.stack.containers()).find((c) => c.role === 'lb' && c.component === 'haproxy' && c.state === 'running');
  if (!haproxy) return null;
  const res = await ctx.docker.exec(haproxy.id, ['cat', '/etc/haproxy/haproxy.active.cfg'], { signal }).catch(() => null);
  return res && res.exitCode === 0 ? backendTls(res.stdout) : null;
}

/** Whether every declared cluster node runs its group traffic over TLS; null without a cluster or when none answers. */
async function clusterLinksSsl(ctx: ProbeContext, signal: AbortSignal): Promise<boolean | null> {
  const nodes = databasesByRole(ctx.stack.spec, 'node');
  if (nodes.length === 0) return null;
  const options = await Promise.all(
    nodes.map(async ([name]) => {
      try {
        return (await clusterStatus(await resolveDatabase(ctx.stack, name), signal)).wsrep_provider_options ?? '';
      } catch (err) {
        if (signal.aborted) throw err;
        return null;
      }
    }),
  );
  const known = options.filter((o): o is string => o !== null);
  return known.length ? known.every(socketSsl) : null;
}

/** The database sessions' transport: the primary's, or a cluster's first node's where there is no primary. */
async function databaseTarget(ctx: ProbeContext): Promise<DbTarget> {
  if (databasesByRole(ctx.stack.spec, 'primary').length || !databasesByRole(ctx.stack.spec, 'node').length) return dbTarget(ctx.stack, 'db-primary');
  return resolveDatabase(ctx.stack, databasesByRole(ctx.stack.spec, 'node')[0]![0]);
}

async function dbTransport(ctx: ProbeContext, signal: AbortSignal): Promise<DbTransport> {
  try {
    const primary = await databaseTarget(ctx);
    const base = await withConnection(
      primary,
      async (c) => {
        const [v] = await queryRows(c, 'SELECT @@have_ssl AS have_ssl, @@require_secure_transport AS rst');
        const accounts: Record<string, boolean | null> = {};
        for (const user of ['app', 'repl']) {
          try {
            const rows = await queryRows(c, `SHOW GRANTS FOR '${user}'@'%'`);
            accounts[user] = grantsRequireTls(rows.map((r) => String(Object.values(r)[0])));
          } catch {
            accounts[user] = null;
          }
        }
        return {
          haveSsl: v?.have_ssl === undefined ? null : String(v.have_ssl),
          requireSecureTransport: v?.rst === undefined ? null : Number(v.rst) === 1,
          accountsRequireTls: accounts,
        };
      },
      { signal, timeoutMs: 8000 },
    );
    const clusterSsl = await clusterLinksSsl(ctx, signal);
    let replicationSsl: string | null = null;
    if (databasesByRole(ctx.stack.spec, 'replica').length)
      try {
        const replica = await dbTarget(ctx.stack, 'db-replica');
        const [s] = await withConnection(replica, (c) => queryRows(c, 'SHOW SLAVE STATUS'), { signal, timeoutMs: 8000 });
        replicationSsl = s ? String(s.Master_SSL_Allowed) : null;
      } catch (err) {
        if (signal.aborted) throw err;
      }
    return { reachable: true, error: null, ...base, replicationSsl, clusterSsl };
  } catch (err) {
    if (signal.aborted) throw err;
    return {
      reachable: false,
      error: (err as Error).message,
      haveSsl: null,
      requireSecureTransport: null,
      accountsRequireTls: {},
      replicationSsl: null,
      clusterSsl: null,
    };
  }
}

export async function gatherInternal(ctx: ProbeContext, signal: AbortSignal): Promise<InternalFacts> {
  const [http, db] = await Promise.all([httpHops(ctx, signal), dbTransport(ctx, signal)]);
  return { http, db };
}

export interface InternalEncryptionValue {
  grade: Grade;
  /** Hops of the data path carrying plaintext: LB → web servers, web → database, replication (0–3). */
  plaintextHops: number;
  hops: DataPathHop[];
}

const params = z.object({ minGrade: z.enum(GRADES).default('A') }).strict();
type Params = z.infer<typeof params>;

/**
 * The inside half of the TLS probe on its own: the reference stack fails it by design (weakness 1), so an
 * experiment can assert that a change actually encrypts the hops.
 */
/** The inside facts as lines: the TLS probe shows them too when it looks inside. */
export function internalLines(internal: InternalFacts): string[] {
  const d = internal.db;
  return [
    `inside     ${internal.http.map((h) => `${h.from}→${h.to}:80 ${h.plaintextStatus !== null ? `plaintext ${h.plaintextStatus}` : 'no answer'}${h.lbTls ? `, LB → ${h.to} ${h.lbTls}` : ''}`).join(', ') || 'no LB → web hop found'}`,
    d.reachable
      ? `           database: have_ssl=${d.haveSsl ?? '?'} require_secure_transport=${d.requireSecureTransport ?? '?'} app REQUIRE SSL=${d.accountsRequireTls.app ?? '?'} ${
          d.clusterSsl !== null && d.clusterSsl !== undefined
            ? `Galera socket.ssl=${d.clusterSsl ? 'on every node' : 'off somewhere'}`
            : `replication SSL=${d.replicationSsl ?? '?'}`
        }`
      : `           database: not checked (${d.error})`,
  ];
}

function renderInternalEncryption(o: Observation<InternalEncryptionValue>): string[] {
  const v = o.value;
  const internal = o.details.internal as InternalFacts | undefined;
  return [`grade ${v.grade} (inside the stack), ${v.plaintextHops} plaintext hop(s)`, ...(internal ? internalLines(internal) : [])];
}

export const internalEncryptionProbe: Probe<Params, InternalEncryptionValue> = {
  name: 'internal-encryption',
  description: 'whether hops inside the stack (LB → web servers, web → database, replication) are encrypted',
  params,
  render: renderInternalEncryption,
  headline: (v) => v.grade,
  metrics: [{ metric: 'plaintext_hops', over: 'all', of: (l) => l.value.plaintextHops }],
  async run(ctx, p, signal): Promise<Observation<InternalEncryptionValue>> {
    const started = startMark();
    const facts = await gatherInternal(ctx, signal);
    const findings = internalFindings(facts);
    const grade = gradeOf(findings);
    const hops = dataPathHops(facts);
    const plaintextHops = hops.filter((h) => !h.encrypted).length;
    return observation('internal-encryption', started, {
      value: { grade, plaintextHops, hops },
      tolerance: gradeTolerance(p.minGrade),
      passed: gradeAtLeast(grade, p.minGrade),
      details: { internal: facts },
      findings,
    });
  },
};
