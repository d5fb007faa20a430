// Severity arithmetic and the summary grade, SSL Labs style. Pure.
//
// Grade rules (documented choice): any critical finding → F; two or more high → C; one high → B; otherwise A.
// So A means "no high or critical finding"; medium/low/info findings are listed but do not lower the grade.

import { SEVERITY_ORDER, type Finding, type Severity } from './types.js';
import type { Tolerance } from './tolerance.js';

export const GRADES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type Grade = (typeof GRADES)[number];

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

/** The tolerance a probe judged by "grade at least `min`" records: the grades it accepts, as a pattern. */
export function gradeTolerance(min: Grade): Tolerance {
  return { type: 'regex', pattern: min === 'A' ? '^A$' : `^[A-${min}]$` };
}

export function bySeverity(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
}
