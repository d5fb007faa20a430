// PromQL probe: one instant query against the stack's Prometheus (prometheus.ts finds it and asks it) and a verdict on
// its number: a scalar or one series, or several series summed, bounded or each checked. Parsing and verdict are pure.

import { z } from 'zod';
import { observation, startMark } from './runner.js';
import { prometheusUrl, queryInstant } from './prometheus.js';
import { describeTolerance, toleranceField, withinTolerance, type Tolerance } from './tolerance.js';
import type { Finding, Observation, Probe } from './types.js';

export interface PromSeries {
  labels: Record<string, string>;
  value: number;
}

const AGGREGATES = ['single', 'sum', 'min', 'max', 'each'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

const params = z
  .object({
    // A default that means something on any monitored stack (how many scrape targets are up), so `probe promql` alone looks.
    query: z.string().trim().min(1).default('sum(up)'),
    aggregate: z.enum(AGGREGATES).default('single').describe('several series: sum, min, max, or each (every series within expect)'),
    expect: toleranceField.optional().describe('e.g. ">= 1", "<= 0.5", [0, 10]'),
  })
  .strict()
  .refine((p) => p.aggregate !== 'each' || p.expect !== undefined, {
    message: 'aggregate each needs expect: the bound every series must meet',
    path: ['expect'],
  });

type Params = z.output<typeof params>;

export interface PromqlValue {
  /** The number the verdict reads (the one series', or the aggregate); null for `each` and for no series. */
  value: number | null;
  aggregate: Aggregate;
  series: number;
  /** Series (or the one number) outside `expect`; 0 without it. */
  outside: number;
}

/** `name{a="1", b="2"}` as Prometheus prints a series (pure). */
export function seriesName(labels: Record<string, string>): string {
  const { __name__: name = '', ...rest } = labels;
  const inner = Object.keys(rest)
    .sort()
    .map((k) => `${k}="${rest[k]}"`)
    .join(', ');
  return `${name}{${inner}}`;
}

/** An instant query's answer to series (pure): a scalar is one series without labels; a range vector or a string is refused. */
export function parseInstant(answer: { resultType: string; result: unknown }): PromSeries[] {
  const num = (pair: unknown): number => Number((pair as [number, string] | undefined)?.[1]);
  switch (answer.resultType) {
    case 'scalar':
      return [{ labels: {}, value: num(answer.result) }];
    case 'vector':
      return (answer.result as Array<{ metric?: Record<string, string>; value?: [number, string] }>).map((r) => ({
        labels: r.metric ?? {},
        value: num(r.value),
      }));
    default:
      throw new Error(`the query gives a ${answer.resultType || 'missing'} result; the promql probe reads a scalar or an instant vector`);
  }
}

/** The verdict (pure). `error` is set when one number was asked for and several series came (naming them). */
export function judgePromql(
  query: string,
  series: PromSeries[],
  aggregate: Aggregate,
  expect: Tolerance | undefined,
): { value: PromqlValue; findings: Finding[]; error?: string } {
  const base = { aggregate, series: series.length, outside: 0 };
  if (series.length === 0)
    return { value: { ...base, value: null }, findings: [{ id: 'no-series', severity: 'high', message: `${query} returned no series` }] };
  const bound = expect ? describeTolerance(expect) : '';
  if (aggregate === 'each') {
    const bad = series.filter((s) => !withinTolerance(s.value, expect!));
    const findings: Finding[] = bad.map((s) => ({
      id: 'out-of-tolerance',
      severity: 'high',
      message: `${seriesName(s.labels)} = ${s.value}, expected ${bound}`,
    }));
    return { value: { ...base, value: null, outside: bad.length }, findings };
  }
  if (aggregate === 'single' && series.length > 1) {
    const names = series.slice(0, 5).map((s) => seriesName(s.labels));
    const more = series.length > 5 ? ` and ${series.length - 5} more` : '';
    return {
      value: { ...base, value: null },
      findings: [],
      error: `${query} returned ${series.length} series (${names.join(', ')}${more}); give aggregate: sum, min, max or each, or aggregate in the query`,
    };
  }
  const values = series.map((s) => s.value);
  const value = aggregate === 'min' ? Math.min(...values) : aggregate === 'max' ? Math.max(...values) : values.reduce((a, b) => a + b, 0);
  const within = !expect || withinTolerance(value, expect);
  const findings: Finding[] = within ? [] : [{ id: 'out-of-tolerance', severity: 'high', message: `${query} = ${value}, expected ${bound}` }];
  return { value: { ...base, value, outside: within ? 0 : 1 }, findings };
}

function renderPromql(o: Observation<PromqlValue>): string[] {
  const d = o.details as { query: string; series?: PromSeries[] };
  const v = o.value;
  const how = v.aggregate === 'single' ? '' : v.aggregate === 'each' ? ` (each of ${v.series} series)` : ` (${v.aggregate} of ${v.series} series)`;
  const lines = [`${d.query}${v.value === null ? '' : ` = ${v.value}`}${how}`];
  const list = d.series ?? [];
  if (v.aggregate !== 'single' || list.length > 1) lines.push(...list.slice(0, 20).map((s) => `  ${seriesName(s.labels)} ${s.value}`));
  if (list.length > 20) lines.push(`  … ${list.length - 20} more`);
  return lines;
}

export const promqlProbe: Probe<Params, PromqlValue> = {
  name: 'promql',
  description: "an instant PromQL query against the stack's Prometheus, judged by expect (or the step's tolerance)",
  params,
  render: renderPromql,
  // The number a step's tolerance reads; for `each` (no single number) whether every series met expect.
  headline: (v) => (v.aggregate === 'each' ? v.series > 0 && v.outside === 0 : v.value),
  async run(ctx, p, signal): Promise<Observation<PromqlValue>> {
    const started = startMark();
    const answer = await queryInstant(await prometheusUrl(ctx.stack), p.query, signal);
    let series: PromSeries[];
    try {
      series = parseInstant(answer);
    } catch (err) {
      return {
        ...observation('promql', started, { value: null as never, tolerance: null, passed: false }),
        error: { code: 'INVALID_INPUT', message: `query: ${(err as Error).message}` },
      };
    }
    const j = judgePromql(p.query, series, p.aggregate, p.expect);
    const o = observation('promql', started, {
      value: j.value,
      tolerance: p.expect ?? null,
      passed: !j.error && j.value.series > 0 && j.findings.length === 0,
      // A vector can be large: the journal keeps the first 100 series.
      details: { query: p.query, series: series.slice(0, 100) },
      findings: j.findings,
    });
    return j.error ? { ...o, error: { code: 'INVALID_INPUT', message: `query: ${j.error}` } } : o;
  },
};
