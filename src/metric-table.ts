// The metrics an experiment is judged by, in one table: name, unit, what it means and which way is better.
// The schema (assertion metric names), the judge, assertions, the scorecard, the reports and `compare` all
// read it, so a metric is added in one place. Probes name the metrics they contribute by these names.

export type MetricUnit = 'ratio' | 'ms' | 's' | 'count' | 'grade' | 'status' | 'flag' | 'budget';

export interface MetricSpec {
  unit: MetricUnit;
  /** How assertions and reports name it ("time to recover (s)"). */
  label: string;
  /** The short form of the one-line summary in report.md ("time to recover"). */
  short: string;
  description: string;
  /** Which direction is better; null where neither is (a count of requests, a status). */
  better: 'higher' | 'lower' | null;
  /** Whether an experiment file may assert on it. */
  assertable: boolean;
  /** Digits of a percentage in the reports' key numbers (ratios only). */
  digits?: number;
}

const spec = (
  unit: MetricUnit,
  label: string,
  short: string,
  better: MetricSpec['better'],
  assertable: boolean,
  description: string,
  digits?: number,
): MetricSpec => ({
  unit,
  label,
  short,
  better,
  assertable,
  description,
  ...(digits === undefined ? {} : { digits }),
});

export const METRIC_TABLE = {
  requests: spec('count', 'intended requests', 'requests', null, false, 'requests the load meant to send (sent + dropped)'),
  availability: spec('ratio', 'availability', 'availability', 'higher', true, 'successes / intended requests over the whole run', 3),
  error_ratio: spec('ratio', 'error ratio', 'error ratio', 'lower', true, 'failed / intended requests over the whole run'),
  error_ratio_outside_faults: spec(
    'ratio',
    'error ratio outside fault windows',
    'error ratio outside faults',
    'lower',
    true,
    'error ratio outside the warm-up and each fault until the stack recovered',
  ),
  p99_ms: spec('ms', 'p99 latency (ms)', 'p99', 'lower', true, 'p99 latency from the intended send time, timed-out requests at their deadline'),
  p99_ms_outside_faults: spec(
    'ms',
    'p99 latency outside fault windows (ms)',
    'p99 outside faults',
    'lower',
    true,
    'p99 latency outside the warm-up and each fault until recovered',
  ),
  time_to_detect_s: spec('s', 'time to detect (s)', 'time to detect', 'lower', true, 'fault start → first bucket below baseline (the slowest fault)'),
  time_to_recover_s: spec(
    's',
    'time to recover (s)',
    'time to recover',
    'lower',
    true,
    'the slowest fault: from its start to the first healthy run when the stack healed itself (failover) while it was on, else from its end; 0 when it never hurt while on',
  ),
  failback_s: spec(
    's',
    'failback after the revert (s)',
    'failback',
    'lower',
    true,
    'the fault the stack had healed (or never felt) whose revert disrupted longest: first bad bucket after its end → next healthy run; 0 when none',
  ),
  error_budget_consumed: spec(
    'budget',
    'error budget consumed',
    'error budget consumed',
    'lower',
    false,
    'failed / ((1 − SLO) × intended): 1 means the whole budget is gone',
  ),
  write_outage_s: spec(
    's',
    'write outage (s)',
    'write outage',
    'lower',
    true,
    'first failed write after the first fault → first successful write after the last failed one',
  ),
  write_outage_worst_s: spec(
    's',
    'worst write outage of one fault (s)',
    'worst write outage',
    'lower',
    true,
    'the longest write outage one fault caused: with a fault injected several times (times:), the worst injection’s; else the run’s write outage',
  ),
  write_error_ratio: spec('ratio', 'write error ratio', 'write error ratio', 'lower', true, 'failed or unknown writes / attempted writes'),
  writes_acknowledged: spec('count', 'writes acknowledged', 'writes acknowledged', null, false, 'writes the stack answered as committed'),
  read_error_ratio_during_faults: spec(
    'ratio',
    'read error ratio during faults',
    'read errors during faults',
    'lower',
    true,
    'error ratio of reads inside fault windows',
  ),
  web_capacity_lost_ratio: spec(
    'ratio',
    'web capacity lost',
    'web capacity lost',
    'lower',
    true,
    'web servers whose component the fault took down / web servers',
  ),
  data_loss_status: spec('status', 'data-loss check', 'data-loss check', null, false, 'the set check of the write ledger: valid, invalid or unknown'),
  lost_writes: spec('count', 'lost writes', 'lost writes', 'lower', true, 'acknowledged writes missing from the primary afterwards'),
  unexpected_writes: spec('count', 'unexpected writes', 'unexpected writes', 'lower', true, 'rows of the run that were never sent'),
  recovered_writes: spec('count', 'recovered writes', 'recovered writes', null, false, 'unacknowledged writes that were committed anyway'),
  tls_grade: spec(
    'grade',
    'TLS grade',
    'TLS grade',
    'higher',
    true,
    'worst public TLS grade during the method (the steady state when the method had no TLS probe)',
  ),
  steady_tls_grade: spec(
    'grade',
    'TLS grade of the healthy stack',
    'steady TLS grade',
    'higher',
    false,
    'worst public TLS grade of the steady state before the method',
  ),
  internal_plaintext: spec(
    'flag',
    'plaintext inside the stack',
    'plaintext inside',
    'lower',
    false,
    '1 when a TLS probe found plaintext hops inside the stack',
  ),
  plaintext_hops: spec(
    'count',
    'plaintext hops on the data path',
    'plaintext hops',
    'lower',
    true,
    'hops of the data path (LB → web servers, web → database, replication) that carry plaintext, most seen by the internal-encryption probe',
  ),
  exposure_holes: spec(
    'count',
    'firewall holes',
    'firewall holes',
    'lower',
    true,
    'most ports open against the policy during the method (the steady state when the method had no exposure probe)',
  ),
  steady_exposure_holes: spec(
    'count',
    'firewall holes of the healthy stack',
    'steady firewall holes',
    'lower',
    false,
    'most ports open against the policy in the steady state before the method',
  ),
  replication_lag_s: spec('s', 'replication lag (s)', 'replication lag', 'lower', true, 'largest replica lag seen by the replication probe'),
  qps_difference_ratio: spec(
    'ratio',
    'QPS difference between client and monitoring',
    'QPS difference',
    'lower',
    false,
    'largest |client − server| / client of the QPS probe',
  ),
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRIC_TABLE;
export type MetricValue = number | string | null;
/** What a run measured: a metric that was not measured is absent or null. */
export type Metrics = Partial<Record<MetricName, MetricValue>>;

export const METRIC_NAMES = Object.keys(METRIC_TABLE) as MetricName[];

/** The metrics an experiment file may assert on, in the table's order. */
export const ASSERTABLE_METRICS = METRIC_NAMES.filter((m) => METRIC_TABLE[m].assertable) as [MetricName, ...MetricName[]];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRIC_TABLE, name);
}

export function metricSpec(name: MetricName): MetricSpec {
  return METRIC_TABLE[name];
}
