// What a suite's compare report shows (`report:` in a suite file): its sections, each a claim measured by one of the
// suite's experiments with the figures that prove it. Data, so that any suite on any stack gets the report that
// experiments/before-after.yaml gets; a suite without it gets one section per experiment (src/report/compare-layout.ts).

import { basename } from 'node:path';
import { z } from 'zod';
import { METRIC_NAMES, type MetricName, type MetricUnit } from '../metric-table.js';

/** The per-second series a section may chart (src/report/series.ts draws them from the timeline's per-second view). */
export const CHART_SERIES = ['success', 'writes_acknowledged', 'reads_answered', 'rps', 'errors', 'p99'] as const;
export type ChartSeries = (typeof CHART_SERIES)[number];

const UNITS = ['ratio', 'ms', 's', 'count', 'grade', 'status', 'flag', 'budget'] as const satisfies readonly MetricUnit[];
const id = z
  .string()
  .min(1)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase name such as "single-writer"');
const metric = z.enum(METRIC_NAMES as [MetricName, ...MetricName[]]);

/**
 * A figure: a metric of the run (its label, unit and better direction from src/metric-table.ts), or a field of a
 * probe's value (`probe` + `field`, the worst look of the run), or a metric with a probe's field to fall back on.
 * `complement` shows 1 − a ratio (an error ratio as an availability); it needs a label.
 */
const figureObject = z
  .object({
    metric: metric.optional(),
    probe: id.optional(),
    field: z.string().min(1).optional(),
    label: z.string().min(1).optional(),
    unit: z.enum(UNITS).optional(),
    better: z.enum(['higher', 'lower']).nullable().optional(),
    complement: z.boolean().default(false),
  })
  .strict()
  .superRefine((f, ctx) => {
    const add = (message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    if (!f.metric && !(f.probe && f.field)) add('give a metric, or a probe and the field of its value');
    if (!!f.probe !== !!f.field) add('a probe figure needs both probe and field');
    if (!f.metric && !f.label) add('a probe figure needs a label');
    if (f.complement && !f.label) add('a complement needs its own label (what 1 − the metric means)');
  });

export const figureSpecSchema = z.union([metric, figureObject], {
  errorMap: () => ({ message: 'expected a metric name, or { metric | probe + field, label, unit, better, complement }' }),
});

export const reportSectionSchema = z
  .object({
    id,
    title: z.string().min(1),
    /** What the section sets out to show, in a sentence or two. */
    claim: z.string().default(''),
    /** The suite's experiment that measures it (the file's base name). */
    experiment: id,
    figures: z.array(figureSpecSchema).min(1, 'a section shows at least one figure'),
    /** `bars`: the first figure, one bar per run; else a per-second series on the fault's clock. Default: success per second. */
    chart: z.enum(['bars', ...CHART_SERIES]).default('success'),
    /** List the data-path hops this probe saw (the internal-encryption probe's hops). */
    hops: id.optional(),
    notes: z.array(z.string()).default([]),
  })
  .strict();

const extraSection = (title: string) =>
  z
    .object({ experiment: id, title: z.string().min(1).default(title) })
    .strict()
    .optional();

export const suiteReportSchema = z
  .object({
    title: z.string().min(1).optional(),
    sections: z.array(reportSectionSchema).default([]),
    /** Client against Prometheus: the qps probe's looks in this experiment. */
    monitoring: extraSection('Monitoring'),
    /** p50/p99 of reads and writes (the write ledger against the timeline) in this experiment. */
    latency: extraSection('Latency of reads and writes'),
    notes: z.array(z.string()).default([]),
  })
  .strict();

export type FigureSpec = z.output<typeof figureSpecSchema>;
export type ReportSection = z.output<typeof reportSectionSchema>;
export type SuiteReport = z.output<typeof suiteReportSchema>;

/** The experiment ids a suite's entries give (file base names), as the journal names them. */
export const experimentIdOf = (entry: string) => basename(entry).replace(/\.ya?ml$/, '');

/** Problems a schema alone cannot see: sections and extras must name the suite's own experiments, ids be unique. */
export function suiteReportProblems(report: SuiteReport, entries: string[]): Array<{ path: Array<string | number>; message: string }> {
  const ids = entries.map(experimentIdOf);
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const known = (path: Array<string | number>, experiment: string) => {
    if (!ids.includes(experiment)) problems.push({ path, message: `"${experiment}" is not an experiment of this suite (${ids.join(', ')})` });
  };
  const seen = new Set<string>();
  report.sections.forEach((s, i) => {
    known(['report', 'sections', i, 'experiment'], s.experiment);
    if (seen.has(s.id)) problems.push({ path: ['report', 'sections', i, 'id'], message: `"${s.id}" is used twice` });
    seen.add(s.id);
  });
  if (report.monitoring) known(['report', 'monitoring', 'experiment'], report.monitoring.experiment);
  if (report.latency) known(['report', 'latency', 'experiment'], report.latency.experiment);
  return problems;
}
