// What a compare report shows and what its columns are called, from the journals (pure): the suite's `report:`
// when it has one (recorded in the suite's journal), else one section per experiment with the metrics it asserts
// (or, asserting none, those it measured); column labels from --label, else from what tells the runs apart.

import type { ExperimentJournal, Journal } from '../experiment/journal.js';
import { experimentsOf } from '../experiment/journal.js';
import type { FigureSpec, ReportSection, SuiteReport } from '../experiment/suite-report.js';
import { FaultlineError } from '../errors.js';
import { METRIC_NAMES, type MetricName } from '../metric-table.js';

/** The report of a suite without `report:`: a section per experiment of either run, in the first run's order. */
export function defaultReport(journals: Journal[]): SuiteReport {
  const byId = new Map<string, ExperimentJournal[]>();
  for (const e of journals.flatMap(experimentsOf)) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  const sections = [...byId.entries()].map(([id, runs]): ReportSection => {
    const asserted = [...new Set(runs.flatMap((e) => e.assertions.map((a) => a.metric)))];
    const measured = METRIC_NAMES.filter((m) => runs.some((e) => e.metrics[m] !== null && e.metrics[m] !== undefined));
    const figures: FigureSpec[] = (asserted.length ? asserted : measured) satisfies MetricName[];
    return {
      id,
      title: runs[0]!.title,
      claim: runs[0]!.description.trim(),
      experiment: id,
      figures,
      chart: runs.some((e) => e.load) ? 'success' : 'bars',
      notes: [],
    };
  });
  return { sections, notes: [] };
}

/** The suite's own report (from the first journal that recorded one), else the default (sections: compare-model.ts fills them in when a report names none). */
export function reportOf(journals: Journal[]): SuiteReport {
  for (const j of journals) if (j.kind === 'suite' && j.report) return j.report;
  return defaultReport(journals);
}

/** Keys of the model's own that a column label may not take (a label names a column in the JSON's maps). */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

function checkLabels(labels: string[]): string[] {
  if (new Set(labels).size !== labels.length) throw new FaultlineError('INVALID_INPUT', `column labels must differ, got ${labels.join(' and ')}`);
  for (const l of labels)
    if (!l.trim() || RESERVED.has(l)) throw new FaultlineError('INVALID_INPUT', `"${l}" cannot be a column label: give another with --label`);
  return labels;
}

/**
 * Column labels: the given ones, else the first of these that tells the runs apart: the reference profile, the stack
 * project, the journal's title; else "before" and "after".
 */
export function runLabels(journals: Journal[], given: string[] = []): string[] {
  if (given.length) {
    if (given.length !== journals.length) throw new FaultlineError('INVALID_INPUT', `give a label per run (${journals.length}), got ${given.length}`);
    return checkLabels(given);
  }
  const stackOf = (j: Journal) => experimentsOf(j).find((e) => e.stack)?.stack ?? null;
  const candidates: Array<(j: Journal) => string | undefined> = [(j) => stackOf(j)?.profile, (j) => stackOf(j)?.project, (j) => j.title];
  for (const of of candidates) {
    const labels = journals.map(of);
    if (labels.every((l): l is string => !!l?.trim() && !RESERVED.has(l)) && new Set(labels).size === labels.length) return labels;
  }
  return checkLabels(journals.length === 2 ? ['before', 'after'] : journals.map((_, i) => `run ${i + 1}`));
}
