// Pure renderers for the fault commands: the catalogue, a plan (--dry-run), recorded faults, a revert summary.

import { describeParams } from './params.js';
import type { RevertSummary } from './engine.js';
import type { AnyFaultDefinition, FaultPlan, FaultRecord } from './types.js';
import { textTable } from '../util/table.js';

export function formatCatalogue(defs: AnyFaultDefinition[]): string {
  const rows = [['NAME', 'KIND', 'DEFAULT TARGET', 'PARAMETERS', 'WHAT IT DOES']];
  for (const d of defs) rows.push([d.name, d.kind, d.defaultTarget ?? '(required)', describeParams(d.params).join(' ') || '-', d.description]);
  return textTable(rows);
}

export function formatPlan(name: string, plan: FaultPlan): string {
  const targets = plan.targets.map((t) => `${t.service || t.name} (${t.id.slice(0, 12)})`).join(', ');
  return [`dry run: ${name} would act on ${targets}`, ...plan.steps.map((s, i) => `  ${i + 1}. ${s}`), '  nothing was changed'].join('\n');
}

export function formatRecords(records: FaultRecord[]): string {
  if (records.length === 0) return 'no faults recorded';
  const rows = [['ID', 'FAULT', 'STATUS', 'TARGETS', 'SINCE', 'HOLDER']];
  for (const r of records) rows.push([r.id, r.fault, r.status, r.targets.map((t) => t.service || t.name).join(','), r.createdAt, `${r.pid}@${r.hostname}`]);
  return textTable(rows);
}

export function formatRevertSummary(s: RevertSummary): string {
  const lines: string[] = [];
  for (const r of s.reverted) lines.push(`reverted ${r.fault} (${r.id})`);
  for (const { record, reason } of s.skipped) lines.push(`skipped  ${record.fault} (${record.id}): ${reason}`);
  for (const { record, error } of s.failed) lines.push(`FAILED   ${record.fault} (${record.id}): ${error.message}`);
  if (s.helpersRemoved) lines.push(`removed ${s.helpersRemoved} leftover helper container(s)`);
  if (lines.length === 0) lines.push('nothing to revert');
  return lines.join('\n');
}
