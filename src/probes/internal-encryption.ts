// Encryption inside the stack (the design's weakness 1): does a web server answer plaintext HTTP from the LB,
// and may the app's (and replication's) database sessions run without TLS. Session ciphers of other
// connections cannot be read in MariaDB, so the honest check is the server's TLS support and what the
// accounts are required to use (have_ssl, require_secure_transport, REQUIRE in the grants).

import { z } from 'zod';
import { queryRows, withConnection } from './mysql.js';
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
}

export interface InternalFacts {
  http: HttpHop[];
  db: DbTransport;
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
        error: code > 0 ? null : `curl exit ${res.exitCode}`,
      };
    }),
  );
}

async function dbTransport(ctx: ProbeContext, signal: AbortSignal): Promise<DbTransport> {
  try {
    const primary = await dbTarget(ctx.stack, 'db-primary');
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
    let replicationSsl: string | null = null;
    try {
      const replica = await dbTarget(ctx.stack, 'db-replica');
      const [s] = await withConnection(replica, (c) => queryRows(c, 'SHOW SLAVE STATUS'), { signal, timeoutMs: 8000 });
      replicationSsl = s ? String(s.Master_SSL_Allowed) : null;
    } catch (err) {
      if (signal.aborted) throw err;
    }
    return { reachable: true, error: null, ...base, replicationSsl };
  } catch (err) {
    if (signal.aborted) throw err;
    return { reachable: false, error: (err as Error).message, haveSsl: null, requireSecureTransport: null, accountsRequireTls: {}, replicationSsl: null };
  }
}

export async function gatherInternal(ctx: ProbeContext, signal: AbortSignal): Promise<InternalFacts> {
  const [http, db] = await Promise.all([httpHops(ctx, signal), dbTransport(ctx, signal)]);
  return { http, db };
}

export interface InternalEncryptionValue {
  grade: Grade;
  /** Hops found carrying plaintext (LB → web per server, web → database, replication). */
  plaintextHops: number;
}

const params = z.object({ minGrade: z.enum(GRADES).default('A') }).strict();
type Params = z.infer<typeof params>;

/**
 * The inside half of the TLS probe on its own: the reference stack fails it by design (weakness 1), so an
 * experiment can assert that a change actually encrypts the hops.
 */
export const internalEncryptionProbe: Probe<Params, InternalEncryptionValue> = {
  name: 'internal-encryption',
  description: 'whether hops inside the stack (LB → web servers, web → database, replication) are encrypted',
  params,
  headline: (v) => v.grade,
  async run(ctx, p, signal): Promise<Observation<InternalEncryptionValue>> {
    const started = startMark();
    const facts = await gatherInternal(ctx, signal);
    const findings = internalFindings(facts);
    const grade = gradeOf(findings);
    const plaintextHops =
      facts.http.filter((h) => h.plaintextStatus !== null).length +
      findings.filter((f) => f.id === 'internal-plaintext-db' || f.id === 'internal-plaintext-replication').length;
    return observation('internal-encryption', started, {
      value: { grade, plaintextHops },
      tolerance: gradeTolerance(p.minGrade),
      passed: gradeAtLeast(grade, p.minGrade),
      details: { internal: facts },
      findings,
    });
  },
};
