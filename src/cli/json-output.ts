// `--json` documents of run, validate, list, doctor and revert: each a pure function from the command's result to a
// JSON-able object, so a script reads one document on stdout while the human lines stay on stderr.

import type { ReportFiles } from '../report/bundle.js';
import type { DoctorCheck } from '../stack/doctor.js';
import type { RevertSummary } from '../faults/index.js';
import { redactSecrets } from '../faults/redact.js';
import type { TimelineEntry, TimelineHeader } from '../faults/format.js';

/** One file as `validate` saw it: a one-line summary when it loads, the problems (one per line) when it does not. */
export type ValidateOutcome = { file: string; ok: true; summary: string } | { file: string; ok: false; problems: string[] };

/** One entry of `list`: the name, its title, the suite's experiments, or why it does not load. */
export type ListEntry = { name: string; title: string; suite?: string[] } | { name: string; invalid: string[] };

/** `run --json`: where the journal is, how the run ended and what it wrote; the journal itself stays in its file. */
export function runJSON(status: string, title: string, exitCode: number, files: ReportFiles) {
  return {
    status,
    title,
    exitCode,
    journal: files.journal,
    reports: files.reports.map((r) => ({ format: r.format.name, path: r.path })),
    ...(files.bundle ? { bundle: files.bundle } : {}),
  };
}

export function validateJSON(outcomes: ValidateOutcome[], exitCode: number) {
  return { ok: outcomes.every((o) => o.ok), exitCode, files: outcomes };
}

export function listJSON(dir: string, entries: ListEntry[]) {
  return { dir, experiments: entries };
}

export function doctorJSON(checks: DoctorCheck[], exitCode: number) {
  return { ok: !checks.some((c) => c.status === 'fail'), exitCode, checks };
}

/** A fault by what a reader needs to find it again; the parameters with any secret masked. */
const fault = (r: RevertSummary['reverted'][number]) => redactSecrets({ id: r.id, fault: r.fault, params: r.params });

export function revertJSON(summary: RevertSummary, exitCode: number) {
  return {
    exitCode,
    reverted: summary.reverted.map(fault),
    skipped: summary.skipped.map((s) => ({ ...fault(s.record), reason: s.reason })),
    failed: summary.failed.map((f) => ({ ...fault(f.record), code: f.error.code, error: f.error.message })),
    helpersRemoved: summary.helpersRemoved,
  };
}

/** One step of a dry run: when, what, on which containers, the steps the fault would take, or why it cannot. */
function dryRunStep(e: TimelineEntry) {
  return {
    kind: e.kind,
    name: e.name,
    ...(e.target !== undefined ? { target: e.target } : {}),
    ...(e.atMs !== undefined ? { atMs: e.atMs } : {}),
    ...(e.forMs ? { forMs: e.forMs } : {}),
    ...(e.everyMs !== undefined ? { everyMs: e.everyMs } : {}),
    ...(e.times !== undefined ? { times: e.times } : {}),
    ...(e.during !== undefined ? { during: e.during } : {}),
    ...(e.plan ? { targets: e.plan.targets.map((t) => ({ name: t.name, id: t.id.slice(0, 12) })), steps: e.plan.steps } : {}),
    ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}),
  };
}

/** `run --dry-run --json`: each experiment's timeline as planned against the stack; nothing was injected. */
export function dryRunJSON(plans: { header: TimelineHeader; entries: TimelineEntry[] }[], exitCode: number) {
  return {
    exitCode,
    injected: false,
    experiments: plans.map(({ header, entries }) => ({ ...header, steps: entries.map(dryRunStep) })),
  };
}

/** One document, pretty-printed, ending the line. */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
