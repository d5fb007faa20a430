// What the TLS probe contributes to an experiment: its grade as the headline, the run's TLS grades and
// whether plaintext runs inside the stack, and the worst look's non-informational findings as evidence.

import type { ProbeDeclarations } from './types.js';
import type { TlsValue } from './tls.js';

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
};
