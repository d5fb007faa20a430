// Pure renderers for the fault commands: the catalogue, a plan (--dry-run), a run's planned timeline (run --dry-run),
// recorded faults, a revert summary.

import { describeParams } from './params.js';
import type { RevertSummary } from './engine.js';
import type { AnyFaultDefinition, FaultPlan, FaultRecord, TargetRef } from './types.js';
import type { FaultlineError } from '../errors.js';
import { textTable } from '../util/table.js';

export function formatCatalogue(defs: AnyFaultDefinition[]): string {
  const rows = [['NAME', 'KIND', 'DEFAULT TARGET', 'PARAMETERS', 'WHAT IT DOES']];
  for (const d of defs) rows.push([d.name, d.kind, d.defaultTarget ?? '(required)', describeParams(d.params).join(' ') || '-', d.description]);
  return textTable(rows);
}

/** Where a plan acts: each target by service and short id. */
function formatTargets(targets: TargetRef[]): string {
  // A swarm task also names its node: where the fault will act.
  return targets.map((t) => `${t.service || t.name} (${t.id.slice(0, 12)}${t.node ? ` on ${t.node}` : ''})`).join(', ');
}

const numberedSteps = (steps: string[], indent: string) => steps.map((s, i) => `${indent}${i + 1}. ${s}`);

export function formatPlan(name: string, plan: FaultPlan): string {
  return [`dry run: ${name} would act on ${formatTargets(plan.targets)}`, ...numberedSteps(plan.steps, '  '), '  nothing was changed'].join('\n');
}

/** One step of a run's method as a dry run planned it: a fault or an action with its plan (or why it cannot be), or a probe. */
export interface TimelineEntry {
  kind: 'fault' | 'probe' | 'action';
  name: string;
  target?: string | undefined;
  /** Offset from the start of load. */
  atMs?: number;
  forMs?: number;
  everyMs?: number;
  /** A fault injected several times (`times:`), everyMs apart from start to start at the most. */
  times?: number;
  during?: string;
  /** A rollback's step: after the method. */
  rollback?: boolean;
  plan?: FaultPlan;
  error?: FaultlineError;
}

export interface TimelineHeader {
  title: string;
  id: string;
  stack: string;
  loadMs: number;
  maxTargets?: number | undefined;
}

const secs = (ms: number) => `${Number((ms / 1000).toFixed(3))}s`;

function when(e: TimelineEntry): string {
  if (e.rollback) return 'rollback';
  if (e.times !== undefined && e.everyMs !== undefined)
    return `t=${secs(e.atMs ?? 0)}–${secs((e.atMs ?? 0) + (e.forMs ?? 0))}, ${e.times} times, every ${secs(e.everyMs)} or 3s after the last revert`;
  if (e.everyMs !== undefined) return `every ${secs(e.everyMs)}`;
  if (e.during !== undefined) return `during ${e.during}`;
  const at = e.atMs ?? 0;
  return e.forMs ? `t=${secs(at)}–${secs(at + e.forMs)}` : `t=${secs(at)}`;
}

/** What, where and when a run would do, without doing it (`faultline run --dry-run`). */
export function formatTimeline(header: TimelineHeader, entries: TimelineEntry[]): string {
  const limit = header.maxTargets === undefined ? '' : `, max_targets ${header.maxTargets}`;
  const lines = [`dry run: ${header.title} (${header.id}) on stack ${header.stack}, load ${secs(header.loadMs)}${limit}`];
  const width = Math.max(0, ...entries.map((e) => when(e).length));
  for (const e of entries) {
    const head = `  ${when(e).padEnd(width)}  ${e.kind} ${e.name}`;
    if (e.kind === 'probe') {
      lines.push(head);
      continue;
    }
    lines.push(`${head}${e.target === undefined ? '' : ` on ${e.target}`}`);
    const indent = ' '.repeat(width + 4);
    if (e.error) lines.push(`${indent}REFUSED: ${e.error.message}`);
    else if (e.plan) lines.push(`${indent}→ ${formatTargets(e.plan.targets)}`, ...numberedSteps(e.plan.steps, `${indent}  `));
  }
  const faults = entries.filter((e) => e.kind === 'fault');
  const refused = faults.filter((e) => e.error).length;
  const actions = entries.filter((e) => e.kind === 'action');
  const actionsRefused = actions.filter((e) => e.error).length;
  const actionLine = actions.length ? `, ${actions.length} action step(s)${actionsRefused ? `, ${actionsRefused} refused` : ''}` : '';
  lines.push(`  ${faults.length} fault step(s)${refused ? `, ${refused} refused` : ''}${actionLine}; nothing was injected${actions.length ? ' or run' : ''}`);
  return lines.join('\n');
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
