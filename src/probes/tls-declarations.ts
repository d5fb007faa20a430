// What the TLS probe declares beside its look (tls.ts imports it): its grade as the headline, the run's TLS
// grades and whether plaintext runs inside the stack, the worst look's non-informational findings as evidence,
// and how an observation reads.

import { internalLines, type InternalFacts } from './internal-encryption.js';
import type { Observation, ProbeDeclarations } from './types.js';
import type { TlsFacts, TlsValue } from './tls.js';

function renderTls(o: Observation<TlsValue>): string[] {
  const v = o.value;
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

export const tlsDeclarations: ProbeDeclarations<TlsValue> = {
  headline: (v) => v.grade,
  metrics: [
    { metric: 'tls_grade', over: 'run', of: (l) => l.value.grade },
    { metric: 'steady_tls_grade', over: 'steady', of: (l) => l.value.grade },
    { metric: 'internal_plaintext', over: 'all', of: (l) => (l.findings.some((f) => /plaintext/i.test(f.id)) ? 1 : 0) },
  ],
  evidence: {
    key: 'tls',
    worstBy: 'tls_grade',
    of: (o) => ({
      grade: o.value.grade,
      internalGrade: o.value.internalGrade ?? null,
      findings: o.findings.filter((f) => f.severity !== 'info').map((f) => ({ id: f.id, severity: f.severity, title: f.message, detail: f.where })),
    }),
  },
  render: renderTls,
  // Said, or a passed probe seems to list "high" problems against itself.
  insideFindingsTitle: 'findings inside the stack (graded separately):',
};
