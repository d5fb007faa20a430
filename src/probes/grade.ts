// Severity arithmetic and the summary grade, SSL Labs style. Pure.
//
// Grade rules (documented choice): any critical finding → F; two or more high → C; one high → B; otherwise A.
// So A means "no high or critical finding"; medium/low/info findings are listed but do not lower the grade.

import { SEVERITY_ORDER, type Finding, type Severity } from './types.js';

export type Grade = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export function gradeOf(findings: readonly Finding[]): Grade {
  if (findings.some((f) => f.severity === 'critical')) return 'F';
  const high = findings.filter((f) => f.severity === 'high').length;
  if (high >= 2) return 'C';
  if (high === 1) return 'B';
  return 'A';
}

/** True when `s` is at least as severe as `threshold`. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITY_ORDER.indexOf(s) <= SEVERITY_ORDER.indexOf(threshold);
}

export function gradeAtLeast(g: Grade, min: Grade): boolean {
  return g <= min;
}

export function bySeverity(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
}
