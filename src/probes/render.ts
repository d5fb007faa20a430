// Human-readable rendering of observations: one pure function per probe, chosen by name, plus the findings.

import { formatDuration } from '../util/duration.js';
import { bySeverity } from './grade.js';
import { describeTolerance } from './tolerance.js';
import type { ExposureCheck } from './exposure.js';
import type { QpsDetails, QpsValue } from './qps.js';
import type { RecoveryReport } from './recovery.js';
import type { ReplicationFacts, ReplicationValue } from './replication.js';
import type { ContainerHealth } from './health.js';
import type { TlsFacts, TlsValue } from './tls.js';
import type { InternalEncryptionValue, InternalFacts } from './internal-encryption.js';
import type { DataLossResult } from './data-loss.js';
import type { Finding, Observation } from './types.js';

const pct = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '–' : formatDuration(x));

function renderTls(o: Observation): string[] {
  const v = o.value as TlsValue;
  const f = o.details.public as TlsFacts | undefined;
  const internal = o.details.internal as InternalFacts | undefined;
  const lines = [`grade ${v.grade} (public)${v.internalGrade ? `, ${v.internalGrade} (inside the stack)` : ''}`];
  if (f) {
    const c = f.certificate;
    lines.push(`endpoint   ${f.host}:${f.port} (SNI ${f.servername})`);
    lines.push(
      `handshake  ${f.handshake.ok ? `${f.handshake.protocol} ${f.handshake.cipher}` : `failed: ${f.handshake.error}`}; chain ${f.handshake.authorized ? 'trusted' : `NOT trusted (${f.handshake.authorizationError})`}`,
    );
    if (c) {
      lines.push(`cert       ${c.subject}; issuer ${c.issuer}`);
      lines.push(`           ${c.keyType ?? '?'} ${c.keyBits ?? '?'} bits, ${c.signatureAlgorithm ?? '?'}, valid to ${c.validTo} (${v.daysToExpiry} days)`);
      lines.push(
        `           names: ${Object.entries(f.hostnames)
          .map(([n, e]) => `${n} ${e ? 'NO' : 'ok'}`)
          .join(', ')}`,
      );
    }
    lines.push(`protocols  ${f.versions.map((x) => `${x.version === 'TLSv1' ? 'TLS 1.0' : x.version.replace('TLSv', 'TLS ')} ${x.outcome}`).join(', ')}`);
    lines.push(`HSTS       ${f.hsts ?? 'none'}`);
    lines.push(`HTTP       ${f.redirect.status ?? f.redirect.error} ${f.redirect.location ? `→ ${f.redirect.location}` : ''}`.trimEnd());
  }
  if (internal) lines.push(...internalLines(internal));
  return lines;
}

function internalLines(internal: InternalFacts): string[] {
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

function renderInternalEncryption(o: Observation): string[] {
  const v = o.value as InternalEncryptionValue;
  const internal = o.details.internal as InternalFacts | undefined;
  return [`grade ${v.grade} (inside the stack), ${v.plaintextHops} plaintext hop(s)`, ...(internal ? internalLines(internal) : [])];
}

function renderExposure(o: Observation): string[] {
  const checks = (o.details.checks as ExposureCheck[] | undefined) ?? [];
  const lines: string[] = [];
  for (const vantage of [...new Set(checks.map((c) => c.vantage))]) {
    const mine = checks.filter((c) => c.vantage === vantage);
    const open = mine.filter((c) => c.open).map((c) => `${c.server}:${c.port}${c.allowed ? '' : ' (HOLE)'}`);
    lines.push(`${vantage.padEnd(9)} ${mine.length} checked; open: ${open.join(', ') || 'none'}`);
  }
  return lines;
}

function renderQps(o: Observation): string[] {
  const v = o.value as QpsValue;
  const d = o.details as unknown as QpsDetails;
  const lines = [
    `window     ${v.windowStart} → ${v.windowEnd}`,
    v.clientTotal === null
      ? 'client     no load timeline to compare with (CLI: --load <file> from `faultline load --json`)'
      : `client     ${v.clientTotal} requests (${v.clientQps?.toFixed(1) ?? '–'} req/s)`,
    `server     ${v.serverTotal} requests at the LB (${v.serverQps.toFixed(1)} req/s); difference ${pct(v.difference)}`,
  ];
  for (const s of Object.keys(d.lbPerServer ?? {}).sort()) {
    lines.push(
      `  ${s.padEnd(8)} LB ${d.lbPerServer[s]}  nginx ${d.nginxPerServer[s] ?? '–'}  (nginx − LB ${d.perServerDifference[s] ?? '–'}: health checks, stub_status)`,
    );
  }
  const busy = (d.perSecond ?? []).filter((s) => (s.client ?? 0) > 0 || (s.server ?? 0) > 0);
  if (busy.length) lines.push(`per second (client/server): ${busy.map((s) => `${s.client ?? '–'}/${s.server ?? '–'}`).join(' ')}`);
  return lines;
}

function renderReplication(o: Observation): string[] {
  const v = o.value as ReplicationValue;
  const f = o.details as unknown as ReplicationFacts;
  return [
    `replica    IO=${f.replica?.ioRunning ?? '–'} SQL=${f.replica?.sqlRunning ?? '–'} lag ${v.lagSeconds ?? '–'} s, GTID gap ${v.gtidGap ?? '–'}`,
    `read_only  primary=${f.primary?.readOnly ?? '–'} replica=${f.replica?.readOnly ?? '–'}; accepts writes: ${v.writers.join(', ') || 'none'}`,
    `GTID       primary ${f.primary?.gtidBinlogPos ?? '–'}, replica ${f.replica?.gtidSlavePos ?? '–'}`,
  ];
}

/** One line per server (its components, and the state of any that is not fine), so 22 containers fit on 7 lines. */
function renderHealth(o: Observation): string[] {
  const list = (o.details.containers as ContainerHealth[] | undefined) ?? [];
  const bad = list.filter((c) => !c.ok).length;
  const lines = [`${list.length} containers: ${bad === 0 ? 'all running and healthy' : `${bad} not fine`}`];
  const servers = new Map<string, ContainerHealth[]>();
  for (const c of list) servers.set(c.server ?? c.service, [...(servers.get(c.server ?? c.service) ?? []), c]);
  for (const [server, cs] of servers) {
    const parts = cs.map((c) => `${c.component ?? c.service}${c.ok ? '' : ` ${c.state.toUpperCase()}${c.health !== 'none' ? ` (${c.health})` : ''}`}`);
    lines.push(`${cs.every((c) => c.ok) ? 'ok ' : 'BAD'} ${server.padEnd(11)} ${parts.join(', ')}`);
  }
  return lines;
}

function renderRecovery(o: Observation): string[] {
  const r = o.details as unknown as RecoveryReport;
  const lines = [
    `baseline   success ${pct(r.baseline?.successRatio)} p99 ${r.baseline?.p99Ms ?? '–'} ms over ${ms(r.baseline?.startMs)}–${ms(r.baseline?.endMs)}`,
    `run        availability ${pct(r.availability, 3)}, ${r.failed} of ${r.completed} failed, error budget (SLO ${pct(r.slo)}) ${pct(r.errorBudgetConsumed, 0)} used`,
  ];
  for (const f of r.faults ?? []) {
    lines.push(
      `${f.fault.padEnd(10)} detect ${ms(f.timeToDetectMs)}, error window ${f.errorWindow ? ms(f.errorWindow.durationMs) : 'none'}, recover ${f.recovered ? ms(f.timeToRecoverMs) : 'never'}`,
    );
  }
  return lines;
}

function renderDataLoss(o: Observation): string[] {
  const r = o.details as unknown as DataLossResult;
  const c = r.check;
  const lines = [`status     ${r.status}${r.error ? ` (${r.error})` : ''}`];
  if (c)
    lines.push(
      `writes     attempted ${c.attempted}, acknowledged ${c.acknowledged}, read ${c.read}; lost ${c.lost.length}, unexpected ${c.unexpected.length}, recovered ${c.recovered.length}`,
    );
  for (const d of r.divergences ?? []) {
    const [a, b] = d.between;
    lines.push(`diverge    ${a} vs ${b}: only on ${a} ${d.only[a]?.length ?? 0}, only on ${b} ${d.only[b]?.length ?? 0}`);
  }
  // Journals written before read-backs were named.
  const old = (r as unknown as { divergence?: { onlyPrimary: string[]; onlyReplica: string[] } }).divergence;
  if (!r.divergences && old) lines.push(`replica    only on primary ${old.onlyPrimary.length}, only on replica ${old.onlyReplica.length}`);
  return lines;
}

const RENDERERS: Record<string, (o: Observation) => string[]> = {
  tls: renderTls,
  'internal-encryption': renderInternalEncryption,
  exposure: renderExposure,
  qps: renderQps,
  replication: renderReplication,
  health: renderHealth,
  recovery: renderRecovery,
  'data-loss': renderDataLoss,
};

export function renderFindings(findings: Finding[]): string[] {
  return bySeverity(findings).map((f) => `  [${f.severity}] ${f.id}: ${f.message}${f.where ? `  (${f.where})` : ''}`);
}

/** The whole observation as text: verdict line, the probe's own lines, findings. */
export function renderObservation(o: Observation): string {
  const verdict = o.error ? 'ERROR' : o.passed ? 'passed' : 'FAILED';
  const tol = o.tolerance ? ` (tolerance ${describeTolerance(o.tolerance)})` : '';
  const lines = [`probe ${o.probe}: ${verdict}${tol}  [${o.timestamp}, ${formatDuration(o.durationMs)}]`];
  if (o.error) {
    lines.push(`  ${o.error.code}: ${o.error.message}`);
    return lines.join('\n');
  }
  const body = RENDERERS[o.probe]?.(o) ?? [`value ${JSON.stringify(o.value)}`];
  lines.push(...body.map((l) => `  ${l}`));
  const inside = o.findings.filter((f) => f.scope === 'internal');
  const rest = o.findings.filter((f) => f.scope !== 'internal');
  if (rest.length) {
    lines.push(inside.length ? 'findings (public):' : 'findings:');
    lines.push(...renderFindings(rest));
  }
  // TLS grades the inside separately: say so, or a passed probe seems to list "high" problems against itself.
  if (inside.length) {
    lines.push(o.probe === 'internal-encryption' ? 'findings:' : 'findings inside the stack (graded separately):');
    lines.push(...renderFindings(inside));
  }
  return lines.join('\n');
}
