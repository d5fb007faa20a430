// Small shared formatters for reports (pure).

import { METRIC_TABLE, type MetricName, type MetricValue } from '../metric-table.js';
import type { ActivityRecord } from '../experiment/journal.js';

export function fmtNumber(v: number | string | null | undefined, digits = 2): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(digits);
}

export function fmtPercent(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(digits)}%`;
}

export function fmtSeconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Why an activity did not succeed: its error, or, for a probe look that failed (it has none), its first findings, which
 * say which check failed ("status 200, expected 500"). Empty for one that succeeded.
 */
export function activityReason(a: Pick<ActivityRecord, 'status' | 'error' | 'output'>): string {
  if (a.error !== undefined || a.status === 'succeeded') return a.error ?? '';
  const findings = (a.output as { findings?: Array<{ message?: unknown }> } | undefined)?.findings;
  const messages = Array.isArray(findings) ? findings.flatMap((f) => (typeof f.message === 'string' ? [f.message] : [])) : [];
  return messages.slice(0, 3).join('; ');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function escapeXml(s: string): string {
  return escapeHtml(s);
}

export const STATUS_LABEL: Record<string, string> = {
  passed: 'PASSED',
  failed: 'FAILED',
  error: 'ERROR',
  interrupted: 'INTERRUPTED',
  'steady-state-failed': 'STEADY STATE NOT MET',
  stopped: 'STOPPED',
};

/** A metric's value with its unit, as the reports' key numbers show it ("99.950%", "12.3 s", "250.0 ms"). */
export function fmtMetric(name: MetricName, v: MetricValue): string {
  if (typeof v !== 'number') return fmtNumber(v);
  const spec = METRIC_TABLE[name];
  if (spec.unit === 'ratio') return fmtPercent(v, spec.digits);
  if (spec.unit === 'ms') return `${fmtNumber(v, 1)} ms`;
  if (spec.unit === 's') return `${fmtNumber(v, 1)} s`;
  return fmtNumber(v);
}

/** The page style the HTML reports share (each adds its own rules). */
export const PAGE_CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-top:1px solid #ddd;padding-top:16px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left;vertical-align:top}
.cols{display:flex;gap:24px;flex-wrap:wrap}`;
