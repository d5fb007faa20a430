// Severity arithmetic and the summary grade, SSL Labs style, and the one list of grades every part of
// faultline uses (probes, the schema's `min: A`, assertions, scorecard, compare). Pure.
//
// Grade rules (documented choice): any critical finding → F; two or more high → C; one high → B; otherwise A.
// So A means "no high or critical finding"; medium/low/info findings are listed but do not lower the grade.

import { SEVERITY_ORDER, type Finding, type Severity } from './types.js';
import type { Tolerance } from './tolerance.js';

/** Best first. */
export const GRADES = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type Grade = (typeof GRADES)[number];

export function isGrade(g: unknown): g is Grade {
  return typeof g === 'string' && (GRADES as readonly string[]).includes(g);
}

/** 0 for the best grade; anything that is no grade ranks below the worst. */
export function gradeRank(g: unknown): number {
  return isGrade(g) ? GRADES.indexOf(g) : GRADES.length;
}

/** The worst of some grades, or null when there are none. */
export function worstGrade(grades: Iterable<Grade>): Grade | null {
  let worst: Grade | null = null;
  for (const g of grades) if (worst === null || gradeRank(g) > gradeRank(worst)) worst = g;
  return worst;
}

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
